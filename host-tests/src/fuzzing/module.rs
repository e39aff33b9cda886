//! The built module in wasmtime, held to the native build on the same input.

use std::path::Path;

use policy::Entrypoint;
use policy::request::json::Doc;
use serde_json::Value;

use runner_policy::host::{EntrypointId, HostError, HostResult, Policy, Runtime};

use super::broken;

/// The built module in wasmtime, held to the native build of the same rules.
pub struct ModuleChecker {
    policy: Policy,
    entrypoints: Vec<(Entrypoint, EntrypointId)>,
    /// The example settings as the native build's data document, and their settings kept.
    native_data: Vec<u8>,
    native: policy::SettingsCache,
    out: Vec<u8>,
}

impl std::fmt::Debug for ModuleChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleChecker")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl ModuleChecker {
    /// Instantiates the module at `module` with the example settings as its data document.
    ///
    /// # Errors
    /// When the module cannot be loaded or lacks an entrypoint.
    pub fn new(module: &Path) -> anyhow::Result<Self> {
        let settings = runner_policy::settings::example()?;
        let mut policy = Runtime::load(module)?.instantiate(&settings)?;
        let entrypoints = Entrypoint::ALL
            .into_iter()
            .map(|e| Ok((e, policy.entrypoint(e.name())?)))
            .collect::<anyhow::Result<_>>()?;
        // Warm the module's settings cache so that every evaluation starts from the same state.
        policy.evaluate(Entrypoint::Decision.name(), b"{}")?;
        Ok(ModuleChecker {
            policy,
            entrypoints,
            native_data: serde_json::to_vec(&settings)?,
            native: policy::SettingsCache::new(),
            out: Vec::new(),
        })
    }

    /// `input` through `opa_eval` at every entrypoint: the module never traps, answers a JSON
    /// result set, and answers JSON input as the native build does. (Text that is not JSON may be
    /// Rego value text, which only the module converts, so there a result set is all it owes.)
    ///
    /// # Errors
    /// The property that does not hold, with the input.
    pub fn evaluation(&mut self, input: &[u8]) -> Result<(), String> {
        let is_json = Doc::parse(input).is_ok();
        for at in 0..self.entrypoints.len() {
            let Some(&(entrypoint, id)) = self.entrypoints.get(at) else {
                continue;
            };
            let name = entrypoint.name();
            self.policy
                .eval_raw(id, input, &mut self.out)
                .map_err(|e| {
                    let e = anyhow::Error::from(e);
                    broken(&format!("{name}: the module failed: {e:#}"), input)
                })?;
            let answer = runner_policy::host::result_of(&self.out)
                .map_err(|e| broken(&format!("{name}: the module's answer: {e:#}"), input))?;
            if is_json {
                let native = self
                    .native
                    .decide(input, Some(&self.native_data))
                    .render(entrypoint);
                let native: Value = serde_json::from_str(&native).map_err(|e| e.to_string())?;
                if answer != native {
                    return Err(broken(
                        &format!("{name}: the module answered {answer}, the native build {native}"),
                        input,
                    ));
                }
                self.context_path(entrypoint, id, input)?;
            }
        }
        Ok(())
    }

    /// The ABI 1.0 path (what burrego, Kubewarden and OPA's SDKs call): the host has the module
    /// parse the input into a value first, so the policy judges that value. It must answer as
    /// `opa_eval` answers the value's own JSON text (`opa_json_dump`), where duplicate keys are
    /// already resolved and numbers normalised.
    fn context_path(
        &mut self,
        entrypoint: Entrypoint,
        id: EntrypointId,
        input: &[u8],
    ) -> Result<(), String> {
        let name = entrypoint.name();
        let failed = |e: HostError| {
            let e = anyhow::Error::from(e);
            broken(&format!("{name} (ctx path): {e:#}"), input)
        };
        let from_value = self.policy.evaluate_ctx(name, input).map_err(failed)?;
        let value_text = self.value_text(input).map_err(failed)?;
        self.policy
            .eval_raw(id, &value_text, &mut self.out)
            .map_err(failed)?;
        let from_text = runner_policy::host::result_of(&self.out).map_err(failed)?;
        if from_value != from_text {
            return Err(broken(
                &format!(
                    "{name}: the ctx path answered {from_value}, opa_eval on the parsed value's \
                     text {from_text}"
                ),
                input,
            ));
        }
        Ok(())
    }

    /// `opa_json_dump(opa_json_parse(input))`: the input as the module holds it as a value.
    fn value_text(&mut self, input: &[u8]) -> HostResult<Vec<u8>> {
        let value = self.policy.parse_input(input)?;
        let text = self.policy.opa_json_dump(value)?;
        Ok(self.policy.read_cstr(text)?.to_vec())
    }
}
