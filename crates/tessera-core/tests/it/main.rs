//! tessera-core seen from outside: checks that need another program (node with a
//! reference library) and use only the crate's public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod altcha;
