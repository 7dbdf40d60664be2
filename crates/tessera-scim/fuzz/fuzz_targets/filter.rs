//! Parses arbitrary UTF-8 as a SCIM filter and as a PATCH path. Neither may panic, and
//! whatever parses must print to text that parses back to the same AST.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_scim::{Filter, Limits, PatchPath};

/// Printing may lengthen a filter (`1e2` prints as `100.0`), so the re-parse gets room.
const ROOMY: Limits = Limits { max_length: 1 << 20, ..Limits::DEFAULT };

fuzz_target!(|text: &str| {
    if let Ok(filter) = Filter::parse(text) {
        let printed = filter.to_string();
        assert_eq!(Filter::parse_with(&printed, &ROOMY).as_ref(), Ok(&filter), "{printed}");
    }
    if let Ok(path) = PatchPath::parse(text) {
        let printed = path.to_string();
        assert_eq!(PatchPath::parse_with(&printed, &ROOMY).as_ref(), Ok(&path), "{printed}");
    }
});
