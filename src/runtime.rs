//! Runtime discovery (placeholder).
