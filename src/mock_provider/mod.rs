//! Scripted Responses-API provider (placeholder).
