//! `rlvm <program> [args]`, or any program name as argv[0] (a symlink), runs that program.
//! rlvm is the only installed executable: every program is a symlink to it,
//! as lvm2's commands are to `lvm`; `rlvm --list-programs` names the links
//! (the Makefile, the tests and the QEMU bed make them from that list).

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let invoked_as = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("rlvm")
        .to_string();
    if let Some(program) = rlvm_cmd::find_program(&invoked_as) {
        return (program.run)(args);
    }
    let Some(name) = args.get(1).and_then(|a| a.to_str()).map(str::to_string) else {
        return usage(rlvm_cmd::exit::INVALID_COMMAND_LINE);
    };
    if matches!(name.as_str(), "help" | "-h" | "--help") {
        return usage(rlvm_cmd::exit::OK);
    }
    if name == "--list-programs" {
        for program in rlvm_cmd::programs() {
            println!("{}", program.name);
        }
        return ExitCode::from(rlvm_cmd::exit::OK);
    }
    // `rlvm lvcreate` is `rlvcreate`, as `lvm lvcreate` is `lvcreate`; `rlvm sync` is `rlvsync`.
    let program = rlvm_cmd::find_program(&name)
        .or_else(|| rlvm_cmd::find_program(&format!("r{name}")))
        .or_else(|| rlvm_cmd::find_program(&format!("rlv{name}")));
    match program {
        Some(program) => {
            args.remove(0);
            (program.run)(args)
        }
        None => {
            eprintln!("rlvm: no such command '{name}' (try 'rlvm help')");
            ExitCode::from(rlvm_cmd::exit::INVALID_COMMAND_LINE)
        }
    }
}

fn usage(code: u8) -> ExitCode {
    let text = "Usage: rlvm <command> [arguments]\n\nCommands:\n";
    let mut out = String::from(text);
    for program in rlvm_cmd::programs() {
        let about = (program.command)()
            .get_about()
            .map(|a| a.to_string())
            .unwrap_or_default();
        out.push_str(&format!("  {:<14}{}\n", program.name, about));
    }
    if code == rlvm_cmd::exit::OK {
        print!("{out}");
    } else {
        eprint!("{out}");
    }
    ExitCode::from(code)
}
