//! Issue 3: not written yet.

use super::Context;
use crate::decision::Violation;

pub fn check(_ctx: &Context<'_, '_>, _out: &mut Vec<Violation>) {}
