//! Files and folders on this machine as a file system image (IMAPI2FS's
//! AddTree): `webburn-helper image PATH... -o IMAGE` writes it to a file,
//! `burn --files PATH...` burns it.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use clap::Args;
use webburn_fsimage::{FileItem, FileSystemImage, FileSystems, FsError, ResultImage, mtime};
use webburn_shared::{Failure, HResult};

use super::CliError;
use webburn_shared::units::format_bytes;

/// What goes into an image: the paths and the volume's settings.
#[derive(Debug, Clone, Args)]
pub struct ImageArgs {
    /// Volume name (at most 32 characters; default: the date).
    #[arg(long, value_name = "NAME")]
    pub volume: Option<String>,
    /// File systems, a sum of 1 (ISO 9660 with Rock Ridge), 2 (Joliet) and
    /// 4 (UDF 1.02); default 7, all three.
    #[arg(long, default_value_t = 7, value_name = "N")]
    pub file_systems: u32,
}

/// Arguments of `image`.
#[derive(Debug, Args)]
pub struct ImageCommand {
    /// Folders (their contents go to the top of the image) and files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Where to write the image.
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub image: ImageArgs,
}

fn fs_error(e: &FsError) -> CliError {
    CliError::new(e.hresult(), e.to_string())
}

fn unreadable(path: &Path, e: &std::io::Error) -> CliError {
    CliError::new(
        HResult::IMAPI_E_DATA_STREAM_READ_FAILURE,
        format!("cannot read {}: {e}", path.display()),
    )
}

/// The image of `paths`: each folder's contents at the top, each file at the top.
pub(super) fn build(
    paths: &[PathBuf],
    args: &ImageArgs,
) -> Result<FileSystemImage<PathBuf>, CliError> {
    let now = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let mut image = FileSystemImage::new(now);
    image
        .set_file_systems(FileSystems(args.file_systems))
        .map_err(|e| fs_error(&e))?;
    if let Some(name) = &args.volume {
        image.set_volume_name(name).map_err(|e| fs_error(&e))?;
    }
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| unreadable(path, &e))?;
        if meta.is_dir() {
            image.root().add_tree(path, "").map_err(|e| fs_error(&e))?;
        } else {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| {
                    CliError::new(
                        HResult::IMAPI_E_INVALID_PATH,
                        format!("{} has no UTF-8 file name", path.display()),
                    )
                })?
                .to_owned();
            let item = FileItem {
                size: meta.len(),
                mtime: mtime(&meta),
                source: path.clone(),
            };
            image
                .root()
                .add_file(&name, item)
                .map_err(|e| fs_error(&e))?;
        }
    }
    Ok(image)
}

/// Opens a file of the image when its data is reached.
pub(super) fn open(path: &PathBuf) -> std::io::Result<Box<dyn Read + Send>> {
    Ok(Box::new(File::open(path)?))
}

/// The CLI error for a failed read of an image's stream.
pub(super) fn stream_error(e: &std::io::Error) -> CliError {
    match Failure::of(e) {
        Some(f) => CliError::new(f.hresult, f.detail.clone()),
        None => CliError::new(HResult::E_FAIL, e.to_string()),
    }
}

/// Lays the image out: one line about it unless `quiet`.
pub(super) fn lay_out(
    image: &FileSystemImage<PathBuf>,
    quiet: bool,
) -> Result<ResultImage<'_, PathBuf>, CliError> {
    let result = image.create_result_image().map_err(|e| fs_error(&e))?;
    if !quiet {
        let (files, dirs) = image.root_ref().counts();
        eprintln!(
            "Image \"{}\": {files} files in {dirs} folders, {} of data, {} sectors ({})",
            image.volume_name(),
            format_bytes(image.root_ref().data_bytes()),
            result.total_blocks(),
            format_bytes(result.total_bytes()),
        );
    }
    Ok(result)
}

/// `webburn-helper image`: writes the image of the paths to a file.
pub(super) fn run_image(cmd: &ImageCommand) -> Result<(), CliError> {
    let image = build(&cmd.paths, &cmd.image)?;
    let result = lay_out(&image, false)?;
    let out_err = |e: &std::io::Error| {
        CliError::new(
            HResult::E_FAIL,
            format!("cannot write {}: {e}", cmd.output.display()),
        )
    };
    let out = File::create(&cmd.output).map_err(|e| out_err(&e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut reader = result.reader(open);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).map_err(|e| stream_error(&e))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(|e| out_err(&e))?;
    }
    out.flush().map_err(|e| out_err(&e))?;
    Ok(())
}
