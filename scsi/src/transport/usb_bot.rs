//! USB mass storage, Bulk-Only Transport: each SCSI command is a CBW on bulk
//! OUT, an optional data stage, and a CSW on bulk IN; a failed command is
//! followed by REQUEST SENSE; stalls are cleared and protocol errors end in
//! reset recovery (USB Mass Storage Class Bulk-Only Transport 1.0, 5.3.4 and 6.6).
//!
//! The protocol runs over a [`BulkPipe`]: the USB device (rusb) in the
//! helper, a scripted pipe in tests, or the emulated USB stick (`emulated::usb_stick`).

pub mod device_memory;
pub mod rusb_pipe;
pub mod wrapper;

use std::time::Duration;

use crate::sense::Sense;
use crate::transport::{
    Completion, DataDirection, ScsiCommand, ScsiStatus, ScsiTransport, TransportError,
};
use wrapper::{CSW_LEN, Cbw, Csw, CswStatus};

/// A bulk endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Device to host.
    In,
    /// Host to device.
    Out,
}

/// How a USB transfer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipeError {
    /// The endpoint answered STALL.
    #[error("endpoint stalled")]
    Stall,
    /// Nothing within the timeout.
    #[error("transfer timed out")]
    Timeout,
    /// The device is gone.
    #[error("no device")]
    NoDevice,
    /// Anything else the USB stack reported.
    #[error("USB error: {0}")]
    Other(String),
}

/// The USB operations Bulk-Only needs.
pub trait BulkPipe: Send {
    /// Writes to the bulk OUT endpoint; returns the bytes sent.
    fn bulk_out(&mut self, data: &[u8], timeout: Duration) -> Result<usize, PipeError>;
    /// Reads from the bulk IN endpoint; returns the bytes received.
    fn bulk_in(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, PipeError>;
    /// CLEAR_FEATURE(ENDPOINT_HALT) on an endpoint.
    fn clear_halt(&mut self, endpoint: Endpoint) -> Result<(), PipeError>;
    /// The class request Bulk-Only Mass Storage Reset.
    fn mass_storage_reset(&mut self) -> Result<(), PipeError>;
    /// The class request Get Max LUN.
    fn get_max_lun(&mut self) -> Result<u8, PipeError>;
}

/// How long the control requests of reset recovery may take.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);
/// REQUEST SENSE allocation length.
const SENSE_LEN: u8 = 18;

/// SCSI over Bulk-Only on a [`BulkPipe`].
#[derive(Debug)]
pub struct BotTransport<P> {
    pipe: P,
    lun: u8,
    tag: u32,
    max_transfer: usize,
}

fn gone() -> TransportError {
    TransportError::DeviceGone("the USB device disconnected".into())
}

fn gone_or(e: PipeError, other: impl FnOnce(PipeError) -> TransportError) -> TransportError {
    match e {
        PipeError::NoDevice => gone(),
        e => other(e),
    }
}

impl<P: BulkPipe> BotTransport<P> {
    /// Bulk-Only on `pipe` for logical unit `lun`, carrying at most `max_transfer` bytes per command.
    pub fn new(pipe: P, lun: u8, max_transfer: usize) -> Self {
        BotTransport {
            pipe,
            lun,
            tag: 0,
            max_transfer,
        }
    }

    /// The highest LUN (Get Max LUN; a device that stalls it has one LUN).
    pub fn max_lun(&mut self) -> u8 {
        self.pipe.get_max_lun().map_or(0, |n| n.min(15))
    }

    /// The pipe, e.g. to give the device back.
    pub fn into_pipe(self) -> P {
        self.pipe
    }

    /// Reset recovery: the class reset, then clearing both halts.
    fn reset_recovery(&mut self) -> Result<(), TransportError> {
        let steps = [
            self.pipe.mass_storage_reset(),
            self.pipe.clear_halt(Endpoint::In),
            self.pipe.clear_halt(Endpoint::Out),
        ];
        for s in steps {
            if let Err(e) = s {
                return Err(gone_or(e, |e| {
                    TransportError::Protocol(format!("reset recovery failed: {e}"))
                }));
            }
        }
        Ok(())
    }

    /// Reset recovery, then the error that made it necessary.
    fn fail(&mut self, why: TransportError) -> TransportError {
        match self.reset_recovery() {
            Err(e @ TransportError::DeviceGone(_)) => e,
            _ => why,
        }
    }

    /// A stage failed: the device is gone, or reset recovery follows.
    fn stage_failed(&mut self, e: PipeError, stage: &str, timeout: Duration) -> TransportError {
        let err = match e {
            PipeError::NoDevice => return gone(),
            PipeError::Timeout => TransportError::Timeout(timeout),
            e => TransportError::Protocol(format!("{stage}: {e}")),
        };
        self.fail(err)
    }

    /// Reads the CSW: a stall is cleared and the read tried once more, a
    /// zero-length packet is skipped once.
    fn read_csw(&mut self, timeout: Duration) -> Result<Csw, TransportError> {
        let mut buf = [0u8; CSW_LEN + 1];
        let mut stalled = false;
        let mut zlp = false;
        loop {
            match self.pipe.bulk_in(&mut buf, timeout) {
                Ok(0) if !zlp => zlp = true,
                Ok(n) => {
                    return Csw::decode(&buf[..n]).map_err(|e| {
                        self.fail(TransportError::Protocol(format!("invalid CSW: {e}")))
                    });
                }
                Err(PipeError::Stall) if !stalled => {
                    stalled = true;
                    self.pipe.clear_halt(Endpoint::In).map_err(|e| {
                        gone_or(e, |e| {
                            TransportError::Protocol(format!("clearing the IN halt: {e}"))
                        })
                    })?;
                }
                Err(e) => return Err(self.stage_failed(e, "reading the CSW", timeout)),
            }
        }
    }

    /// One CBW / data / CSW exchange; returns the CSW and the bytes moved.
    fn exchange(
        &mut self,
        cdb: &[u8],
        data: &mut DataDirection<'_>,
        timeout: Duration,
    ) -> Result<(Csw, usize), TransportError> {
        self.tag = self.tag.wrapping_add(1);
        let (len, data_in) = match data {
            DataDirection::None => (0, false),
            DataDirection::ToDevice(d) => (d.len(), false),
            DataDirection::FromDevice(d) => (d.len(), true),
        };
        crate::transport::check_cdb(cdb)?;
        let data_len = u32::try_from(len)
            .map_err(|_| TransportError::InvalidCommand("a data stage over 4 GiB".into()))?;
        let cbw = Cbw {
            tag: self.tag,
            data_len,
            data_in,
            lun: self.lun,
            cdb: cdb.to_vec(),
        };
        let bytes = cbw
            .encode()
            .map_err(|e| TransportError::InvalidCommand(e.to_string()))?;
        if let Err(e) = self.pipe.bulk_out(&bytes, timeout) {
            return Err(self.stage_failed(e, "sending the CBW", timeout));
        }
        let moved = match data {
            DataDirection::None => Ok(0),
            DataDirection::ToDevice(d) => self.pipe.bulk_out(d, timeout),
            DataDirection::FromDevice(d) => self.pipe.bulk_in(d, timeout),
        };
        let moved = match moved {
            Ok(n) => n,
            // A stalled data stage: clear it and still read the CSW.
            Err(PipeError::Stall) => {
                let ep = if data_in { Endpoint::In } else { Endpoint::Out };
                self.pipe.clear_halt(ep).map_err(|e| {
                    gone_or(e, |e| {
                        TransportError::Protocol(format!("clearing the halt: {e}"))
                    })
                })?;
                0
            }
            Err(e) => return Err(self.stage_failed(e, "the data stage", timeout)),
        };
        let csw = self.read_csw(timeout)?;
        if csw.tag != self.tag {
            let why = format!(
                "CSW tag {:#x} does not match the CBW's {:#x}",
                csw.tag, self.tag
            );
            return Err(self.fail(TransportError::Protocol(why)));
        }
        Ok((csw, moved))
    }

    fn request_sense(&mut self, timeout: Duration) -> Option<Sense> {
        let mut buf = [0u8; SENSE_LEN as usize];
        let cdb = [0x03, 0, 0, 0, SENSE_LEN, 0];
        let mut data = DataDirection::FromDevice(&mut buf);
        match self.exchange(&cdb, &mut data, timeout) {
            Ok((csw, n)) if csw.status == CswStatus::Passed => Sense::parse(&buf[..n]),
            _ => None,
        }
    }
}

impl<P: BulkPipe> ScsiTransport for BotTransport<P> {
    fn execute(&mut self, mut command: ScsiCommand<'_>) -> Result<Completion, TransportError> {
        let expected = match &command.data {
            DataDirection::None => 0,
            DataDirection::ToDevice(d) => d.len(),
            DataDirection::FromDevice(d) => d.len(),
        };
        let (csw, moved) = self.exchange(command.cdb, &mut command.data, command.timeout)?;
        // Trust the smaller of the two counts of what was moved.
        let residue = (csw.residue as usize)
            .max(expected.saturating_sub(moved))
            .min(expected);
        match csw.status {
            CswStatus::Passed => Ok(Completion {
                status: ScsiStatus::Good,
                sense: None,
                residue,
            }),
            CswStatus::Failed => Ok(Completion {
                status: ScsiStatus::CheckCondition,
                sense: self.request_sense(CONTROL_TIMEOUT),
                residue,
            }),
            CswStatus::PhaseError => Err(self.fail(TransportError::Protocol(
                "the device reported a phase error".into(),
            ))),
            CswStatus::Invalid(s) => Err(self.fail(TransportError::Protocol(format!(
                "CSW status {s} is invalid"
            )))),
        }
    }

    fn max_transfer_bytes(&self) -> usize {
        self.max_transfer
    }
}

#[cfg(test)]
mod tests;
