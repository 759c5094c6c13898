//! One burn, the way the session and the command line both run it: an
//! engine with the write's properties on its recorder, the section held
//! against the medium before any data is asked for, then IWriteEngine2's
//! WriteSection alone or IDiscFormat2Data's flow around it.

use std::io::Read;
use std::sync::Arc;

use webburn_shared::protocol::WriteProperties;
use webburn_shared::{
    DataEventArgs, DiscOptions, DiscReport, HResult, MediumKind, Section, WriteEngineEventArgs,
};

use crate::cancel::CancelToken;
use crate::devices::Recorder;
use crate::{EngineConfig, EngineError, WriteEngine};

/// What a burn is asked to do.
#[derive(Debug, Clone)]
pub struct BurnPlan {
    /// The engine's sizes (buffer, timeout); tuned for the medium by [`Burn::new`].
    pub config: EngineConfig,
    /// BytesPerSector, the rate hints and UseStreamingWrite12 (the recorder
    /// is the one [`Burn::new`] is given).
    pub properties: WriteProperties,
    /// Where and how much (its sector size is `properties.bytes_per_sector`).
    pub section: Section,
    /// Bytes the source holds, when known: a shorter one is refused first.
    pub source_len: Option<u64>,
    /// IDiscFormat2Data's flow around the write; `None`: WriteSection alone.
    pub disc: Option<DiscOptions>,
    /// SYNCHRONIZE CACHE after WriteSection alone (the command line does it).
    pub synchronize: bool,
}

/// One progress report of a burn.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// IWriteEngine2EventArgs.
    pub args: WriteEngineEventArgs,
    /// IDiscFormat2DataEventArgs, in the disc flow.
    pub data: Option<DataEventArgs>,
}

/// A burn ready to run on its recorder.
#[derive(Debug)]
pub struct Burn {
    engine: Arc<WriteEngine>,
    plan: BurnPlan,
}

impl Burn {
    /// A new engine, tuned for `medium` when it is known, with the plan's
    /// properties and `recorder` put; the source's length is held against
    /// the section. Touches no device.
    pub fn new(
        plan: BurnPlan,
        recorder: Recorder,
        medium: Option<MediumKind>,
    ) -> Result<Burn, EngineError> {
        plan.section.check_source(plan.source_len)?;
        if i64::from(plan.section.bytes_per_sector()) != i64::from(plan.properties.bytes_per_sector)
        {
            return Err(EngineError::new(
                HResult::E_INVALIDARG,
                "the section's sector size is not the properties' BytesPerSector",
            ));
        }
        let config = medium.map_or(plan.config, |m| plan.config.tuned_for(m));
        let engine = WriteEngine::new(config);
        engine.put_properties(&plan.properties)?;
        engine
            .put_recorder(recorder)
            .map_err(|h| EngineError::new(h, "the recorder was refused"))?;
        Ok(Burn {
            engine: Arc::new(engine),
            plan,
        })
    }

    /// The engine (WriteInProgress, CancelWrite, its configuration).
    pub fn engine(&self) -> &Arc<WriteEngine> {
        &self.engine
    }

    /// The section this burn writes.
    pub fn section(&self) -> Section {
        self.plan.section
    }

    /// Everything checked before any data is asked for: the medium takes
    /// the section (and, for a disc burn, VALIDATING_MEDIA's checks: a
    /// sequential medium is written at its next writable address).
    pub fn check(&self) -> Result<(), EngineError> {
        let section = self.plan.section;
        if self.plan.disc.is_some() {
            crate::disc::precheck(&self.engine, section)
        } else {
            self.engine.check_medium(section).map(drop)
        }
    }

    /// Runs the burn to its end on this thread; `cancel` stops it (and is
    /// fired as a failure when a WRITE fails); every event goes to
    /// `on_progress`. A disc burn returns its report.
    pub fn run(
        &self,
        source: impl Read + Send,
        cancel: &CancelToken,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<Option<DiscReport>, EngineError> {
        let section = self.plan.section;
        if let Some(options) = self.plan.disc {
            return crate::disc::burn(&self.engine, source, section, options, cancel, |a, d| {
                on_progress(Progress {
                    args: *a,
                    data: Some(*d),
                });
            })
            .map(Some);
        }
        self.engine.write_section_until(
            source,
            self.plan.source_len,
            section.start(),
            section.count_i32(),
            cancel,
            |a| {
                on_progress(Progress {
                    args: *a,
                    data: None,
                });
            },
        )?;
        if self.plan.synchronize {
            let recorder = self.engine.recorder().ok_or_else(|| {
                EngineError::new(HResult::E_IMAPI_RECORDER_REQUIRED, "no recorder was put")
            })?;
            crate::disc::medium::synchronize(&mut **crate::disc::hold(&recorder)?)?;
        }
        Ok(None)
    }
}
