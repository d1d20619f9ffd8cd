//! Man pages and shell completions generated from the clap definitions, so
//! they cannot drift from the code (a test regenerates them and compares).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap_complete::Shell;

/// Every generated file: its path relative to the repository root and its bytes.
pub fn render_all() -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    for program in crate::programs() {
        let mut command = (program.command)();
        command.build();
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone())
            .section("8")
            .render(&mut page)
            .with_context(|| format!("rendering the man page of {}", program.name))?;
        files.push((PathBuf::from(format!("man/{}.8", program.name)), page));
        for (shell, file_name) in [
            (Shell::Bash, format!("bash/{}", program.name)),
            (Shell::Zsh, format!("zsh/_{}", program.name)),
            (Shell::Fish, format!("fish/{}.fish", program.name)),
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, program.name, &mut script);
            files.push((PathBuf::from("completions").join(file_name), script));
        }
    }
    Ok(files)
}

/// Write every generated file under `root`; returns the paths written.
pub fn write_all(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (relative, bytes) in render_all()? {
        let path = root.join(&relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(relative);
    }
    Ok(written)
}
