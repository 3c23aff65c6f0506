//! The judge crate's integration tests, one binary: the VLM client against a scripted OpenAI-compatible server
//! on 127.0.0.1, full duels, the timeline rules of competition.md §7.7, matches, and DINOv3 against golden
//! fixtures from transformers.

mod dino;
mod duel;
mod matches;
mod offline;
mod support;
mod timeline;
mod vlm;
