// List and patch metadata of upstream's API types, which the .d.ts files of kubernetes-types do not carry:
// x-kubernetes-patch-strategy / -patch-merge-key (kubectl's client-side apply builds strategic merge patches
// from them) and x-kubernetes-list-type / -list-map-keys (server-side apply). Transcribed from the
// `patchStrategy`/`patchMergeKey` struct tags and `+listType`/`+listMapKey` markers of k8s.io/api and
// k8s.io/apimachinery types.go files.
// One row per field: "<package>.<Type> <field> <patchStrategy> <patchMergeKey> <listType> <listMapKeys>", "-" = none.
export const LIST_META = `
apps.v1.DaemonSetStatus conditions merge type map type
apps.v1.DeploymentSpec strategy retainKeys - - -
apps.v1.DeploymentStatus conditions merge type map type
apps.v1.ReplicaSetStatus conditions merge type map type
apps.v1.StatefulSetSpec volumeClaimTemplates - - atomic -
apps.v1.StatefulSetStatus conditions merge type map type
authentication.v1.TokenRequestSpec audiences - - atomic -
authentication.v1.TokenReviewSpec audiences - - atomic -
authentication.v1.TokenReviewStatus audiences - - atomic -
authentication.v1.UserInfo groups - - atomic -
authorization.v1.FieldSelectorAttributes requirements - - atomic -
authorization.v1.LabelSelectorAttributes requirements - - atomic -
authorization.v1.NonResourceRule nonResourceURLs - - atomic -
authorization.v1.NonResourceRule verbs - - atomic -
authorization.v1.ResourceRule apiGroups - - atomic -
authorization.v1.ResourceRule resourceNames - - atomic -
authorization.v1.ResourceRule resources - - atomic -
authorization.v1.ResourceRule verbs - - atomic -
authorization.v1.SubjectAccessReviewSpec groups - - atomic -
authorization.v1.SubjectRulesReviewStatus nonResourceRules - - atomic -
authorization.v1.SubjectRulesReviewStatus resourceRules - - atomic -
batch.v1.CronJobStatus active - - atomic -
batch.v1.JobSchedulingConfiguration resourceClaims merge name map name
batch.v1.JobStatus conditions merge type atomic -
batch.v1.PodFailurePolicy rules - - atomic -
batch.v1.PodFailurePolicyOnExitCodesRequirement values - - set -
batch.v1.PodFailurePolicyRule onPodConditions - - atomic -
batch.v1.SuccessPolicy rules - - atomic -
batch.v1.UncountedTerminatedPods failed - - set -
batch.v1.UncountedTerminatedPods succeeded - - set -
core.v1.AvoidPods preferAvoidPods - - atomic -
core.v1.Capabilities add - - atomic -
core.v1.Capabilities drop - - atomic -
core.v1.CephFSPersistentVolumeSource monitors - - atomic -
core.v1.CephFSVolumeSource monitors - - atomic -
core.v1.ComponentStatus conditions merge type map type
core.v1.ConfigMapProjection items - - atomic -
core.v1.ConfigMapVolumeSource items - - atomic -
core.v1.Container args - - atomic -
core.v1.Container command - - atomic -
core.v1.Container env merge name map name
core.v1.Container envFrom - - atomic -
core.v1.Container ports merge containerPort map containerPort,protocol
core.v1.Container resizePolicy - - atomic -
core.v1.Container restartPolicyRules - - atomic -
core.v1.Container volumeDevices merge devicePath map devicePath
core.v1.Container volumeMounts merge mountPath map mountPath
core.v1.ContainerImage names - - atomic -
core.v1.ContainerRestartRuleOnExitCodes values - - set -
core.v1.ContainerStatus allocatedResourcesStatus merge name map name
core.v1.ContainerStatus volumeMounts merge mountPath map mountPath
core.v1.DownwardAPIProjection items - - atomic -
core.v1.DownwardAPIVolumeSource items - - atomic -
core.v1.EndpointSubset addresses - - atomic -
core.v1.EndpointSubset notReadyAddresses - - atomic -
core.v1.EndpointSubset ports - - atomic -
core.v1.Endpoints subsets - - atomic -
core.v1.EphemeralContainerCommon args - - atomic -
core.v1.EphemeralContainerCommon command - - atomic -
core.v1.EphemeralContainerCommon env merge name map name
core.v1.EphemeralContainerCommon envFrom - - atomic -
core.v1.EphemeralContainerCommon ports merge containerPort map containerPort,protocol
core.v1.EphemeralContainerCommon resizePolicy - - atomic -
core.v1.EphemeralContainerCommon restartPolicyRules - - atomic -
core.v1.EphemeralContainerCommon volumeDevices merge devicePath map devicePath
core.v1.EphemeralContainerCommon volumeMounts merge mountPath map mountPath
core.v1.ExecAction command - - atomic -
core.v1.FCVolumeSource targetWWNs - - atomic -
core.v1.FCVolumeSource wwids - - atomic -
core.v1.HTTPGetAction httpHeaders - - atomic -
core.v1.HostAlias hostnames - - atomic -
core.v1.ISCSIPersistentVolumeSource portals - - atomic -
core.v1.ISCSIVolumeSource portals - - atomic -
core.v1.LimitRangeSpec limits - - atomic -
core.v1.LinuxContainerUser supplementalGroups - - atomic -
core.v1.LoadBalancerIngress ports - - atomic -
core.v1.LoadBalancerStatus ingress - - atomic -
core.v1.NamespaceSpec finalizers - - atomic -
core.v1.NamespaceStatus conditions merge type map type
core.v1.NodeAffinity preferredDuringSchedulingIgnoredDuringExecution - - atomic -
core.v1.NodeAllocatableResourceClaimStatus containers - - set -
core.v1.NodeAllocatableResourceClaimStatus mapping merge name map name
core.v1.NodeAllocatableResourceClaimStatus overhead merge name map name
core.v1.NodePodPreemptionPolicy disableResizePreemption - - set -
core.v1.NodeSelector nodeSelectorTerms - - atomic -
core.v1.NodeSelectorRequirement values - - atomic -
core.v1.NodeSelectorTerm matchExpressions - - atomic -
core.v1.NodeSelectorTerm matchFields - - atomic -
core.v1.NodeSpec podCIDRs merge - set -
core.v1.NodeSpec taints - - atomic -
core.v1.NodeStatus addresses merge type map type
core.v1.NodeStatus conditions merge type map type
core.v1.NodeStatus declaredFeatures - - atomic -
core.v1.NodeStatus images - - atomic -
core.v1.NodeStatus runtimeHandlers - - atomic -
core.v1.NodeStatus volumesAttached - - atomic -
core.v1.NodeStatus volumesInUse - - atomic -
core.v1.PersistentVolumeClaimSpec accessModes - - atomic -
core.v1.PersistentVolumeClaimStatus accessModes - - atomic -
core.v1.PersistentVolumeClaimStatus conditions merge type map type
core.v1.PersistentVolumeSpec accessModes - - atomic -
core.v1.PersistentVolumeSpec mountOptions - - atomic -
core.v1.PodAffinity preferredDuringSchedulingIgnoredDuringExecution - - atomic -
core.v1.PodAffinity requiredDuringSchedulingIgnoredDuringExecution - - atomic -
core.v1.PodAffinityTerm matchLabelKeys - - atomic -
core.v1.PodAffinityTerm mismatchLabelKeys - - atomic -
core.v1.PodAffinityTerm namespaces - - atomic -
core.v1.PodAntiAffinity preferredDuringSchedulingIgnoredDuringExecution - - atomic -
core.v1.PodAntiAffinity requiredDuringSchedulingIgnoredDuringExecution - - atomic -
core.v1.PodDNSConfig nameservers - - atomic -
core.v1.PodDNSConfig options - - atomic -
core.v1.PodDNSConfig searches - - atomic -
core.v1.PodExecOptions command - - atomic -
core.v1.PodExtendedResourceClaimStatus requestMappings - - atomic -
core.v1.PodPortForwardOptions ports - - atomic -
core.v1.PodSecurityContext supplementalGroups - - atomic -
core.v1.PodSecurityContext sysctls - - atomic -
core.v1.PodSpec containers merge name map name
core.v1.PodSpec ephemeralContainers merge name map name
core.v1.PodSpec evictionResponders merge name map name
core.v1.PodSpec hostAliases merge ip map ip
core.v1.PodSpec imagePullSecrets merge name map name
core.v1.PodSpec initContainers merge name map name
core.v1.PodSpec readinessGates - - atomic -
core.v1.PodSpec resourceClaims merge,retainKeys name map name
core.v1.PodSpec schedulingGates merge name map name
core.v1.PodSpec tolerations - - atomic -
core.v1.PodSpec topologySpreadConstraints merge topologyKey map topologyKey,whenUnsatisfiable
core.v1.PodSpec volumes merge,retainKeys name map name
core.v1.PodStatus conditions merge type map type
core.v1.PodStatus containerStatuses - - atomic -
core.v1.PodStatus ephemeralContainerStatuses - - atomic -
core.v1.PodStatus hostIPs merge ip atomic -
core.v1.PodStatus initContainerStatuses - - atomic -
core.v1.PodStatus nodeAllocatableResourceClaimStatuses merge resourceClaimName map resourceClaimName
core.v1.PodStatus podIPs merge ip map ip
core.v1.PodStatus resourceClaimStatuses merge,retainKeys name map name
core.v1.PodStatus volumeHealth - - map name
core.v1.PodVolumeHealth healthConditions merge status map status,reason
core.v1.ProjectedVolumeSource sources - - atomic -
core.v1.RBDPersistentVolumeSource monitors - - atomic -
core.v1.RBDVolumeSource monitors - - atomic -
core.v1.ReplicationControllerStatus conditions merge type map type
core.v1.ResourceQuotaSpec scopes - - atomic -
core.v1.ResourceRequirements claims - - map name
core.v1.ResourceStatus resources - - map resourceID
core.v1.ScopeSelector matchExpressions - - atomic -
core.v1.ScopedResourceSelectorRequirement values - - atomic -
core.v1.SecretProjection items - - atomic -
core.v1.SecretVolumeSource items - - atomic -
core.v1.ServiceAccount imagePullSecrets - - atomic -
core.v1.ServiceAccount secrets merge name map name
core.v1.ServiceSpec clusterIPs - - atomic -
core.v1.ServiceSpec externalIPs - - atomic -
core.v1.ServiceSpec ipFamilies - - atomic -
core.v1.ServiceSpec loadBalancerSourceRanges - - atomic -
core.v1.ServiceSpec ports merge port map port,protocol
core.v1.ServiceStatus conditions merge type map type
core.v1.TopologySelectorLabelRequirement values - - atomic -
core.v1.TopologySelectorTerm matchLabelExpressions - - atomic -
core.v1.TopologySpreadConstraint matchLabelKeys - - atomic -
core.v1.VolumeHealthStatus healthConditions merge status map status,reason
core.v1.VolumeMount bindMountOptions - - set -
discovery.v1.Endpoint addresses - - set -
discovery.v1.EndpointHints forNodes - - atomic -
discovery.v1.EndpointHints forZones - - atomic -
discovery.v1.EndpointSlice endpoints - - atomic -
discovery.v1.EndpointSlice ports - - atomic -
policy.v1.PodDisruptionBudgetSpec selector replace - - -
policy.v1.PodDisruptionBudgetStatus conditions merge type map type
rbac.v1.AggregationRule clusterRoleSelectors - - atomic -
rbac.v1.ClusterRole rules - - atomic -
rbac.v1.ClusterRoleBinding subjects - - atomic -
rbac.v1.PolicyRule apiGroups - - atomic -
rbac.v1.PolicyRule nonResourceURLs - - atomic -
rbac.v1.PolicyRule resourceNames - - atomic -
rbac.v1.PolicyRule resources - - atomic -
rbac.v1.PolicyRule verbs - - atomic -
rbac.v1.Role rules - - atomic -
rbac.v1.RoleBinding subjects - - atomic -
meta.v1.APIGroup serverAddressByClientCIDRs - - atomic -
meta.v1.APIGroup versions - - atomic -
meta.v1.APIGroupList groups - - atomic -
meta.v1.APIResource categories - - atomic -
meta.v1.APIResource shortNames - - atomic -
meta.v1.APIResourceList resources - - atomic -
meta.v1.APIVersions serverAddressByClientCIDRs - - atomic -
meta.v1.APIVersions versions - - atomic -
meta.v1.ApplyOptions dryRun - - atomic -
meta.v1.CreateOptions dryRun - - atomic -
meta.v1.DeleteOptions dryRun - - atomic -
meta.v1.FieldSelectorRequirement values - - atomic -
meta.v1.LabelSelector matchExpressions - - atomic -
meta.v1.LabelSelectorRequirement values - - atomic -
meta.v1.ObjectMeta finalizers merge - set -
meta.v1.ObjectMeta managedFields - - atomic -
meta.v1.ObjectMeta ownerReferences merge uid map uid
meta.v1.PatchOptions dryRun - - atomic -
meta.v1.RootPaths paths - - atomic -
meta.v1.StatusDetails causes - - atomic -
meta.v1.Table columnDefinitions - - atomic -
meta.v1.Table rows - - atomic -
meta.v1.TableRow cells - - atomic -
meta.v1.TableRow conditions - - atomic -
meta.v1.UpdateOptions dryRun - - atomic -
`;

export interface FieldListMeta {
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: string;
  listMapKeys?: string[];
}

/** Field metadata keyed by upstream definition name ("io.k8s.api.core.v1.PodSpec") then JSON field name. */
export function listMetaTable(): Map<string, Map<string, FieldListMeta>> {
  const out = new Map<string, Map<string, FieldListMeta>>();
  for (const line of LIST_META.split("\n")) {
    const cols = line.trim().split(" ");
    if (cols.length !== 6) continue;
    const [type, field, strategy, key, listType, mapKeys] = cols as [string, string, string, string, string, string];
    const def = type.startsWith("meta.") ? `io.k8s.apimachinery.pkg.apis.${type}` : `io.k8s.api.${type}`;
    const meta: FieldListMeta = {};
    if (strategy !== "-") meta.patchStrategy = strategy;
    if (key !== "-") meta.patchMergeKey = key;
    if (listType !== "-") meta.listType = listType;
    if (mapKeys !== "-") meta.listMapKeys = mapKeys.split(",");
    if (!out.has(def)) out.set(def, new Map());
    out.get(def)!.set(field, meta);
  }
  return out;
}

/**
 * Types whose objects are replaced as a whole by server-side apply (`+structType=atomic` upstream),
 * published as "x-kubernetes-map-type": "atomic".
 */
export const ATOMIC_STRUCTS = new Set(
  `autoscaling.v1.CrossVersionObjectReference core.v1.SecretReference core.v1.FileKeySelector core.v1.ObjectFieldSelector
  core.v1.ResourceFieldSelector core.v1.ConfigMapKeySelector core.v1.SecretKeySelector core.v1.NodeSelector
  core.v1.NodeSelectorTerm core.v1.TopologySelectorTerm core.v1.EndpointAddress core.v1.EndpointPort
  core.v1.ObjectReference core.v1.LocalObjectReference core.v1.TypedLocalObjectReference core.v1.ScopeSelector
  discovery.v1.EndpointPort rbac.v1.Subject rbac.v1.RoleRef meta.v1.OwnerReference meta.v1.LabelSelector`
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => (t.startsWith("meta.") ? `io.k8s.apimachinery.pkg.apis.${t}` : `io.k8s.api.${t}`)),
);
