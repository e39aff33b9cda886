//! The parts of a Pod that the rules read, from a Pod or any workload's pod template.

use super::de::{List, Pairs, Str};
use alloc::vec::Vec;
use json_pass::from_json;

#[derive(Debug, Clone, Default)]
pub struct ObjectMeta<'a> {
    pub name: Option<Str<'a>>,
    pub generate_name: Option<Str<'a>>,
    pub namespace: Option<Str<'a>>,
    pub labels: Pairs<'a>,
    pub annotations: Pairs<'a>,
}

from_json!(ObjectMeta<'a> { name: "name", namespace: "namespace", generate_name: "generateName", labels: "labels", annotations: "annotations" });

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

#[derive(Debug, Clone, Default)]
pub struct PodSpec<'a> {
    pub containers: List<Container<'a>>,
    pub init_containers: List<Container<'a>>,
    pub ephemeral_containers: List<Container<'a>>,
    pub host_network: Option<bool>,
    pub host_pid: Option<bool>,
    pub host_ipc: Option<bool>,
    pub host_users: Option<bool>,
    pub security_context: Option<PodSecurityContext<'a>>,
    pub volumes: List<Volume<'a>>,
    pub service_account_name: Option<Str<'a>>,
    /// Deprecated alias of `serviceAccountName`, still honoured by the API server.
    pub service_account: Option<Str<'a>>,
}

from_json!(PodSpec<'a> { containers: "containers", init_containers: "initContainers", ephemeral_containers: "ephemeralContainers", host_network: "hostNetwork", host_pid: "hostPID", host_ipc: "hostIPC", host_users: "hostUsers", security_context: "securityContext", volumes: "volumes", service_account_name: "serviceAccountName", service_account: "serviceAccount" });

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
    pub fn all_containers(&self) -> Containers<'_, 'a> {
        self.containers_but([0; 3])
    }

    /// The containers, except those whose bit is set in `skip` (bit `i` of `skip[l]`: index `i`
    /// of list `l` in visiting order).
    pub fn containers_but(&self, skip: [u64; 3]) -> Containers<'_, 'a> {
        Containers {
            spec: self,
            skip,
            list: 0,
            next: 0,
        }
    }

    /// The container list at `at` in visiting order, if any.
    fn list(&self, at: usize) -> Option<(ContainerList, &List<Container<'a>>)> {
        match at {
            0 => Some((ContainerList::InitContainers, &self.init_containers)),
            1 => Some((ContainerList::Containers, &self.containers)),
            2 => Some((
                ContainerList::EphemeralContainers,
                &self.ephemeral_containers,
            )),
            _ => None,
        }
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

/// The containers of a pod spec: a cursor over its three lists, with one plain `next` (chained
/// or flattened adapters are not inlined in the size-optimised module). The rules walk the list
/// that `Context::new` makes from it once per evaluation.
#[derive(Debug, Clone)]
pub struct Containers<'s, 'a> {
    spec: &'s PodSpec<'a>,
    skip: [u64; 3],
    /// The list being walked (0, 1, 2 in visiting order), and the next index in it.
    list: usize,
    next: usize,
}

impl<'s, 'a> Iterator for Containers<'s, 'a> {
    type Item = (ContainerList, usize, &'s Container<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (list, items) = self.spec.list(self.list)?;
            if let Some(c) = items.get(self.next) {
                let i = self.next;
                self.next = i.saturating_add(1);
                let bits = self.skip.get(self.list).copied().unwrap_or(0);
                if bits.checked_shr(i.min(64) as u32).unwrap_or(0) & 1 == 0 {
                    return Some((list, i, c));
                }
                continue;
            }
            self.list = self.list.saturating_add(1);
            self.next = 0;
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Container<'a> {
    pub name: Str<'a>,
    pub image: Option<Str<'a>>,
    pub security_context: Option<SecurityContext<'a>>,
    pub ports: List<ContainerPort>,
    pub env: List<EnvVar<'a>>,
    pub env_from: List<EnvFromSource<'a>>,
    pub volume_mounts: List<VolumeMount<'a>>,
    pub liveness_probe: Option<Handler<'a>>,
    pub readiness_probe: Option<Handler<'a>>,
    pub startup_probe: Option<Handler<'a>>,
    pub lifecycle: Option<Lifecycle<'a>>,
}

from_json!(Container<'a> { name: "name", image: "image", security_context: "securityContext", ports: "ports", env: "env", env_from: "envFrom", volume_mounts: "volumeMounts", liveness_probe: "livenessProbe", readiness_probe: "readinessProbe", startup_probe: "startupProbe", lifecycle: "lifecycle" });

#[derive(Debug, Clone, Default)]
pub struct SecurityContext<'a> {
    pub privileged: Option<bool>,
    pub capabilities: Option<Capabilities<'a>>,
    pub proc_mount: Option<Str<'a>>,
    pub seccomp_profile: Option<ProfileRef<'a>>,
    pub app_armor_profile: Option<ProfileRef<'a>>,
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    pub windows_options: Option<WindowsOptions>,
}

from_json!(SecurityContext<'a> { privileged: "privileged", capabilities: "capabilities", proc_mount: "procMount", seccomp_profile: "seccompProfile", app_armor_profile: "appArmorProfile", se_linux_options: "seLinuxOptions", windows_options: "windowsOptions" });

#[derive(Debug, Clone, Default)]
pub struct PodSecurityContext<'a> {
    pub seccomp_profile: Option<ProfileRef<'a>>,
    pub app_armor_profile: Option<ProfileRef<'a>>,
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    pub sysctls: List<Sysctl<'a>>,
    pub windows_options: Option<WindowsOptions>,
}

from_json!(PodSecurityContext<'a> { seccomp_profile: "seccompProfile", app_armor_profile: "appArmorProfile", se_linux_options: "seLinuxOptions", sysctls: "sysctls", windows_options: "windowsOptions" });

#[derive(Debug, Clone, Default)]
pub struct Capabilities<'a> {
    pub add: List<Str<'a>>,
}

from_json!(Capabilities<'a> { add: "add" });

/// A seccomp or AppArmor profile reference: only its type matters at baseline.
#[derive(Debug, Clone, Default)]
pub struct ProfileRef<'a> {
    pub profile_type: Str<'a>,
}

from_json!(ProfileRef<'a> { profile_type: "type" });

#[derive(Debug, Clone, Default)]
pub struct SeLinuxOptions<'a> {
    pub se_type: Option<Str<'a>>,
    pub user: Option<Str<'a>>,
    pub role: Option<Str<'a>>,
}

from_json!(SeLinuxOptions<'a> { se_type: "type", user: "user", role: "role" });

#[derive(Debug, Clone, Default)]
pub struct WindowsOptions {
    pub host_process: Option<bool>,
}

from_json!(WindowsOptions {
    host_process: "hostProcess"
});

#[derive(Debug, Clone, Default)]
pub struct Sysctl<'a> {
    pub name: Str<'a>,
}

from_json!(Sysctl<'a> { name: "name" });

#[derive(Debug, Clone, Default)]
pub struct ContainerPort {
    pub host_port: Option<i64>,
}

from_json!(ContainerPort {
    host_port: "hostPort"
});

#[derive(Debug, Clone, Default)]
pub struct EnvVar<'a> {
    pub name: Str<'a>,
    pub value: Option<Str<'a>>,
    pub value_from: Option<EnvVarSource<'a>>,
}

from_json!(EnvVar<'a> { name: "name", value: "value", value_from: "valueFrom" });

#[derive(Debug, Clone, Default)]
pub struct EnvVarSource<'a> {
    pub secret_key_ref: Option<NameRef<'a>>,
}

from_json!(EnvVarSource<'a> { secret_key_ref: "secretKeyRef" });

#[derive(Debug, Clone, Default)]
pub struct EnvFromSource<'a> {
    pub secret_ref: Option<NameRef<'a>>,
    pub config_map_ref: Option<NameRef<'a>>,
    /// Put before every key of the source to name its variable.
    pub prefix: Option<Str<'a>>,
}

from_json!(EnvFromSource<'a> { secret_ref: "secretRef", config_map_ref: "configMapRef", prefix: "prefix" });

/// A reference to an object by name (`secretKeyRef`, `secretRef`, projected `secret`).
#[derive(Debug, Clone, Default)]
pub struct NameRef<'a> {
    pub name: Option<Str<'a>>,
}

from_json!(NameRef<'a> { name: "name" });

#[derive(Debug, Clone, Default)]
pub struct VolumeMount<'a> {
    pub name: Str<'a>,
    pub mount_path: Str<'a>,
    pub sub_path: Option<Str<'a>>,
}

from_json!(VolumeMount<'a> { name: "name", mount_path: "mountPath", sub_path: "subPath" });

#[derive(Debug, Clone, Default)]
pub struct Volume<'a> {
    pub name: Str<'a>,
    pub host_path: Option<HostPath<'a>>,
    pub secret: Option<SecretVolume<'a>>,
    pub projected: Option<Projected<'a>>,
    /// An image volume (Kubernetes 1.31+): the node pulls `reference` like a container image.
    pub image: Option<ImageVolume<'a>>,
    /// A CSI inline volume: its driver may fetch anything, secrets included.
    pub csi: Option<CsiVolume<'a>>,
}

from_json!(Volume<'a> { name: "name", host_path: "hostPath", secret: "secret", projected: "projected", image: "image", csi: "csi" });

#[derive(Debug, Clone, Default)]
pub struct ImageVolume<'a> {
    pub reference: Option<Str<'a>>,
}

from_json!(ImageVolume<'a> { reference: "reference" });

/// What a CSI driver mounts is outside the pod spec: only the driver can be named.
#[derive(Debug, Clone, Default)]
pub struct CsiVolume<'a> {
    pub driver: Str<'a>,
}

from_json!(CsiVolume<'a> { driver: "driver" });

#[derive(Debug, Clone, Default)]
pub struct HostPath<'a> {
    pub path: Str<'a>,
}

from_json!(HostPath<'a> { path: "path" });

#[derive(Debug, Clone, Default)]
pub struct SecretVolume<'a> {
    pub secret_name: Option<Str<'a>>,
    /// The keys it places, each at its own path; none: every key, at its name.
    pub items: List<KeyToPath<'a>>,
}

from_json!(SecretVolume<'a> { secret_name: "secretName", items: "items" });

/// A Secret key placed as a file: only where matters.
#[derive(Debug, Clone, Default)]
pub struct KeyToPath<'a> {
    pub path: Str<'a>,
}

from_json!(KeyToPath<'a> { path: "path" });

#[derive(Debug, Clone, Default)]
pub struct Projected<'a> {
    pub sources: List<ProjectedSource<'a>>,
}

from_json!(Projected<'a> { sources: "sources" });

#[derive(Debug, Clone, Default)]
pub struct ProjectedSource<'a> {
    pub secret: Option<SecretProjection<'a>>,
}

from_json!(ProjectedSource<'a> { secret: "secret" });

#[derive(Debug, Clone, Default)]
pub struct SecretProjection<'a> {
    pub name: Option<Str<'a>>,
    pub items: List<KeyToPath<'a>>,
}

from_json!(SecretProjection<'a> { name: "name", items: "items" });

/// A probe or lifecycle handler: only the `host` fields matter (PSA baseline since 1.34).
#[derive(Debug, Clone, Default)]
pub struct Handler<'a> {
    pub http_get: Option<HostRef<'a>>,
    pub tcp_socket: Option<HostRef<'a>>,
}

from_json!(Handler<'a> { http_get: "httpGet", tcp_socket: "tcpSocket" });

#[derive(Debug, Clone, Default)]
pub struct HostRef<'a> {
    pub host: Option<Str<'a>>,
}

from_json!(HostRef<'a> { host: "host" });

#[derive(Debug, Clone, Default)]
pub struct Lifecycle<'a> {
    pub post_start: Option<Handler<'a>>,
    pub pre_stop: Option<Handler<'a>>,
}

from_json!(Lifecycle<'a> { post_start: "postStart", pre_stop: "preStop" });

impl Volume<'_> {
    /// The Secrets a volume projects into the pod.
    pub fn secret_names(&self) -> Vec<&str> {
        // Plain loops, as in `secret_items`.
        let mut names = Vec::new();
        if let Some(name) = self.secret.as_ref().and_then(|s| s.secret_name.as_deref()) {
            names.push(name);
        }
        if let Some(p) = &self.projected {
            for source in p.sources.iter() {
                if let Some(name) = source.secret.as_ref().and_then(|r| r.name.as_deref()) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// The Secret items it places: the Secret's, then each projected Secret's.
    pub fn secret_items(&self) -> Vec<&KeyToPath<'_>> {
        // Plain loops: adapter chains are separate functions at opt-level "z".
        let mut items: Vec<&KeyToPath<'_>> = Vec::new();
        if let Some(s) = &self.secret {
            for item in s.items.iter() {
                items.push(item);
            }
        }
        if let Some(p) = &self.projected {
            for source in p.sources.iter() {
                if let Some(s) = &source.secret {
                    for item in s.items.iter() {
                        items.push(item);
                    }
                }
            }
        }
        items
    }

    /// What may bring credentials into the pod through this volume, for messages: a Secret, or
    /// a CSI driver (secrets-store and its kind mount whatever a provider holds).
    pub fn credential_source(&self) -> Option<&'static str> {
        if self.secret.is_some()
            || self
                .projected
                .as_ref()
                .is_some_and(|p| p.sources.0.iter().any(|s| s.secret.is_some()))
        {
            Some("a Secret")
        } else if self.csi.is_some() {
            Some("a CSI volume, whose driver can mount any stored credential,")
        } else {
            None
        }
    }
}
