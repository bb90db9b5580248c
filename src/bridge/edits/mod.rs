//! The agent's edits and the buffers they land in: the open documents and what disk held
//! under each (`documents`), the document store, the part that owns them with the mirror's
//! job queue (`document_store`), and bringing the agent's changes into open buffers with
//! three-way merges and conflicts (`mirror`); and the record of the agent's changes, what each turn changed, to keep or undo it hunk
//! by hunk (`changes`), beside the mirror it follows.

pub(crate) mod changes;
pub(in crate::bridge) mod document_store;
pub(crate) mod documents;
pub(crate) mod mirror;
