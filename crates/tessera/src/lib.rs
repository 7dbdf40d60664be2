//! The Tessera binary's library: configuration, command line, server wiring, the mail and
//! SMS transports and the admin CLI. `main.rs` only parses arguments and calls in here, so
//! tests can drive the same code.

pub mod admin_cli;
pub mod captcha;
pub mod cli;
pub mod config;
pub mod geoip;
pub mod keys_cli;
pub mod mail;
pub mod outbound;
pub mod server;
pub mod sms;
