//! The parts of a Pod that the rules read, from a Pod or any workload's pod template.

use super::de::{List, Pairs, Str};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta<'a> {
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub generate_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub namespace: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub labels: Pairs<'a>,
    #[serde(borrow, default)]
    pub annotations: Pairs<'a>,
}

impl ObjectMeta<'_> {
    /// The name, or the generateName prefix for objects named by the API server.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(self.generate_name.as_deref())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec<'a> {
    #[serde(borrow, default)]
    pub containers: List<Container<'a>>,
    #[serde(borrow, default)]
    pub init_containers: List<Container<'a>>,
    #[serde(borrow, default)]
    pub ephemeral_containers: List<Container<'a>>,
    #[serde(default)]
    pub host_network: Option<bool>,
    #[serde(default, rename = "hostPID")]
    pub host_pid: Option<bool>,
    #[serde(default, rename = "hostIPC")]
    pub host_ipc: Option<bool>,
    #[serde(default)]
    pub host_users: Option<bool>,
    #[serde(borrow, default)]
    pub security_context: Option<PodSecurityContext<'a>>,
    #[serde(borrow, default)]
    pub volumes: List<Volume<'a>>,
    #[serde(borrow, default)]
    pub service_account_name: Option<Str<'a>>,
    /// Deprecated alias of `serviceAccountName`, still honoured by the API server.
    #[serde(borrow, default)]
    pub service_account: Option<Str<'a>>,
}

/// Which list of the pod spec a container comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerList {
    InitContainers,
    Containers,
    EphemeralContainers,
}

impl ContainerList {
    pub const fn field(self) -> &'static str {
        match self {
            ContainerList::InitContainers => "initContainers",
            ContainerList::Containers => "containers",
            ContainerList::EphemeralContainers => "ephemeralContainers",
        }
    }
}

impl<'a> PodSpec<'a> {
    /// Every container of every list, with the list and index (PSA's visiting order).
    pub fn all_containers(&self) -> impl Iterator<Item = (ContainerList, usize, &Container<'a>)> {
        let lists = [
            (ContainerList::InitContainers, &self.init_containers),
            (ContainerList::Containers, &self.containers),
            (ContainerList::EphemeralContainers, &self.ephemeral_containers),
        ];
        lists
            .into_iter()
            .flat_map(|(list, items)| items.0.iter().enumerate().map(move |(i, c)| (list, i, c)))
    }

    /// The ServiceAccount the pod runs as (`serviceAccountName`, else the deprecated field).
    pub fn service_account(&self) -> Option<(&'static str, &str)> {
        match (&self.service_account_name, &self.service_account) {
            (Some(sa), _) if !sa.is_empty() => Some(("serviceAccountName", sa.as_ref())),
            (_, Some(sa)) if !sa.is_empty() => Some(("serviceAccount", sa.as_ref())),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container<'a> {
    #[serde(borrow, default)]
    pub name: Str<'a>,
    #[serde(borrow, default)]
    pub image: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub security_context: Option<SecurityContext<'a>>,
    #[serde(default)]
    pub ports: List<ContainerPort>,
    #[serde(borrow, default)]
    pub env: List<EnvVar<'a>>,
    #[serde(borrow, default)]
    pub env_from: List<EnvFromSource<'a>>,
    #[serde(borrow, default)]
    pub volume_mounts: List<VolumeMount<'a>>,
    #[serde(borrow, default)]
    pub liveness_probe: Option<Handler<'a>>,
    #[serde(borrow, default)]
    pub readiness_probe: Option<Handler<'a>>,
    #[serde(borrow, default)]
    pub startup_probe: Option<Handler<'a>>,
    #[serde(borrow, default)]
    pub lifecycle: Option<Lifecycle<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext<'a> {
    #[serde(default)]
    pub privileged: Option<bool>,
    #[serde(borrow, default)]
    pub capabilities: Option<Capabilities<'a>>,
    #[serde(borrow, default)]
    pub proc_mount: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub seccomp_profile: Option<ProfileRef<'a>>,
    #[serde(borrow, default)]
    pub app_armor_profile: Option<ProfileRef<'a>>,
    #[serde(borrow, default)]
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    #[serde(default)]
    pub windows_options: Option<WindowsOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext<'a> {
    #[serde(borrow, default)]
    pub seccomp_profile: Option<ProfileRef<'a>>,
    #[serde(borrow, default)]
    pub app_armor_profile: Option<ProfileRef<'a>>,
    #[serde(borrow, default)]
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    #[serde(borrow, default)]
    pub sysctls: List<Sysctl<'a>>,
    #[serde(default)]
    pub windows_options: Option<WindowsOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Capabilities<'a> {
    #[serde(borrow, default)]
    pub add: List<Str<'a>>,
}

/// A seccomp or AppArmor profile reference: only its type matters at baseline.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileRef<'a> {
    #[serde(borrow, default, rename = "type")]
    pub profile_type: Str<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SeLinuxOptions<'a> {
    #[serde(borrow, default, rename = "type")]
    pub se_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub user: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub role: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowsOptions {
    #[serde(default)]
    pub host_process: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Sysctl<'a> {
    #[serde(borrow, default)]
    pub name: Str<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default)]
    pub host_port: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar<'a> {
    #[serde(borrow, default)]
    pub name: Str<'a>,
    #[serde(borrow, default)]
    pub value: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub value_from: Option<EnvVarSource<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSource<'a> {
    #[serde(borrow, default)]
    pub secret_key_ref: Option<NameRef<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvFromSource<'a> {
    #[serde(borrow, default)]
    pub secret_ref: Option<NameRef<'a>>,
}

/// A reference to an object by name (`secretKeyRef`, `secretRef`, projected `secret`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NameRef<'a> {
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount<'a> {
    #[serde(borrow, default)]
    pub name: Str<'a>,
    #[serde(borrow, default)]
    pub mount_path: Str<'a>,
    #[serde(borrow, default)]
    pub sub_path: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume<'a> {
    #[serde(borrow, default)]
    pub name: Str<'a>,
    #[serde(borrow, default)]
    pub host_path: Option<HostPath<'a>>,
    #[serde(borrow, default)]
    pub secret: Option<SecretVolume<'a>>,
    #[serde(borrow, default)]
    pub projected: Option<Projected<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostPath<'a> {
    #[serde(borrow, default)]
    pub path: Str<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVolume<'a> {
    #[serde(borrow, default)]
    pub secret_name: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Projected<'a> {
    #[serde(borrow, default)]
    pub sources: List<ProjectedSource<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectedSource<'a> {
    #[serde(borrow, default)]
    pub secret: Option<NameRef<'a>>,
}

/// A probe or lifecycle handler: only the `host` fields matter (PSA baseline since 1.34).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handler<'a> {
    #[serde(borrow, default)]
    pub http_get: Option<HostRef<'a>>,
    #[serde(borrow, default)]
    pub tcp_socket: Option<HostRef<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostRef<'a> {
    #[serde(borrow, default)]
    pub host: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle<'a> {
    #[serde(borrow, default)]
    pub post_start: Option<Handler<'a>>,
    #[serde(borrow, default)]
    pub pre_stop: Option<Handler<'a>>,
}

impl Volume<'_> {
    /// The Secrets a volume projects into the pod.
    pub fn secret_names(&self) -> impl Iterator<Item = &str> {
        let direct = self.secret.as_ref().and_then(|s| s.secret_name.as_deref());
        let projected = self
            .projected
            .iter()
            .flat_map(|p| p.sources.0.iter())
            .filter_map(|s| s.secret.as_ref().and_then(|r| r.name.as_deref()));
        direct.into_iter().chain(projected)
    }

    /// Whether any Secret reaches the pod through this volume.
    pub fn carries_secret(&self) -> bool {
        self.secret.is_some()
            || self
                .projected
                .as_ref()
                .is_some_and(|p| p.sources.0.iter().any(|s| s.secret.is_some()))
    }
}
