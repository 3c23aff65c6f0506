use sn17_metadata::describe::describe_type;
use subxt_metadata::Metadata;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).unwrap();
    let md = Metadata::decode_from(&bytes).unwrap();
    let types = md.types();
    let filter: Vec<&str> = args[2..].iter().map(|s| s.as_str()).collect();
    for p in md.pallets() {
        if !filter.is_empty() && !filter.contains(&p.name()) { continue; }
        println!("== pallet {} idx {}", p.name(), p.call_index());
        if let Some(s) = p.storage() {
            for e in s.entries() {
                let keys: Vec<String> = e.keys().map(|k| format!("{:?}({})", k.hasher, describe_type(types, k.key_id))).collect();
                println!("  S {} [{}] -> {} {}", e.name(), keys.join(", "), describe_type(types, e.value_ty()), if e.default_value().is_none() {"OPT"} else {"DEF"});
            }
        }
        if let Some(cv) = p.call_variants() {
            for v in cv {
                let args: Vec<String> = v.fields.iter().map(|f| format!("{}: {}", f.name.clone().unwrap_or_default(), describe_type(types, f.ty.id))).collect();
                println!("  C {} #{} ({})", v.name, v.index, args.join(", "));
            }
        }
        for c in p.constants() {
            if c.name() == "Version" { println!("  K Version {}", describe_type(types, c.ty())); }
        }
    }
    if filter.is_empty() || filter.contains(&"API") {
        for api in md.runtime_api_traits() {
            println!("== api {}", api.name());
            for m in api.methods() {
                let ins: Vec<String> = m.inputs().map(|i| format!("{}: {}", i.name, describe_type(types, i.id))).collect();
                println!("  F {}({}) -> {}", m.name(), ins.join(", "), describe_type(types, m.output_ty()));
            }
        }
    }
}
#[allow(dead_code)]
fn _unused() {}
