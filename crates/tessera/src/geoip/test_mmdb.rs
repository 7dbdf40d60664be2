//! A minimal MaxMind DB writer for tests: a few networks with small records, written in the
//! format's binary layout (24-bit search tree, data section, metadata), so that the reader
//! is tested on MaxMind's own record layout (nested `country`, `location`, ASN files)
//! without shipping MaxMind's licensed files.

/// A value in a record.
pub enum Value {
    Text(&'static str),
    Double(f64),
    Uint(u32),
    Map(Vec<(&'static str, Value)>),
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    // Sizes below 29 fit the control byte, up to 284 take one more byte; the tests need
    // no larger ones.
    let (size_bits, extra) = match u8::try_from(size) {
        Ok(small) if small < 29 => (small, None),
        _ => (
            29,
            Some(u8::try_from(size - 29).expect("value under 285 bytes")),
        ),
    };
    if kind <= 7 {
        out.push((kind << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, bytes.len() - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn text(out: &mut Vec<u8>, value: &str) {
    control(out, 2, value.len());
    out.extend_from_slice(value.as_bytes());
}

fn encode(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Text(value) => text(out, value),
        Value::Double(value) => {
            control(out, 3, 8);
            out.extend_from_slice(&value.to_be_bytes());
        }
        Value::Uint(value) => uint(out, 6, u64::from(*value)),
        Value::Map(entries) => {
            control(out, 7, entries.len());
            for (key, value) in entries {
                text(out, key);
                encode(out, value);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Empty,
    Node(usize),
    Data(usize),
}

/// Writes a database of `ip_version` 4 or 6. Networks are `(address bits, prefix length,
/// record)` in the tree's address width (32 or 128 bits); in an IPv6 database IPv4
/// networks sit under `::/96`, as in MaxMind's files.
pub fn write(ip_version: u16, database_type: &str, networks: &[(u128, u8, Value)]) -> Vec<u8> {
    let width: u8 = if ip_version == 4 { 32 } else { 128 };
    let mut nodes: Vec<[Slot; 2]> = vec![[Slot::Empty; 2]];
    let mut data = Vec::new();
    for (address, prefix, record) in networks {
        let offset = data.len();
        encode(&mut data, record);
        let mut node = 0;
        for depth in 0..*prefix {
            let bit = usize::from((address >> (width - 1 - depth)) & 1 == 1);
            if depth + 1 == *prefix {
                nodes[node][bit] = Slot::Data(offset);
            } else if let Slot::Node(next) = nodes[node][bit] {
                node = next;
            } else {
                nodes.push([Slot::Empty; 2]);
                let next = nodes.len() - 1;
                nodes[node][bit] = Slot::Node(next);
                node = next;
            }
        }
    }
    let node_count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for slot in node {
            let value = match *slot {
                Slot::Empty => node_count,
                Slot::Node(next) => next,
                Slot::Data(offset) => node_count + 16 + offset,
            };
            let value = u32::try_from(value).expect("small tree");
            out.extend_from_slice(&value.to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let mut metadata = Vec::new();
    control(&mut metadata, 7, 9);
    text(&mut metadata, "binary_format_major_version");
    uint(&mut metadata, 5, 2);
    text(&mut metadata, "binary_format_minor_version");
    uint(&mut metadata, 5, 0);
    text(&mut metadata, "build_epoch");
    uint(&mut metadata, 9, 1_790_000_000);
    text(&mut metadata, "database_type");
    text(&mut metadata, database_type);
    text(&mut metadata, "description");
    control(&mut metadata, 7, 0);
    text(&mut metadata, "ip_version");
    uint(&mut metadata, 5, u64::from(ip_version));
    text(&mut metadata, "languages");
    control(&mut metadata, 11, 0);
    text(&mut metadata, "node_count");
    uint(&mut metadata, 6, node_count as u64);
    text(&mut metadata, "record_size");
    uint(&mut metadata, 5, 24);
    out.extend_from_slice(&metadata);
    out
}

/// An IPv4 network as bits of an IPv6 tree (`::a.b.c.d/96+prefix`).
pub fn v4_in_v6(address: [u8; 4], prefix: u8) -> (u128, u8) {
    (u128::from(u32::from_be_bytes(address)), 96 + prefix)
}
