// The PersistentVolume controller (upstream pkg/controller/volume/persistentvolume): binds claims to volumes and
// keeps both phases right (claims Pending/Bound/Lost, volumes Available/Bound/Released/Failed), waits for the
// scheduler's node choice on WaitForFirstConsumer classes (volume.kubernetes.io/selected-node), provisions
// local-path volumes itself (localpath.ts) and reclaims released volumes: Delete removes provisioned volumes,
// Retain keeps them Released. Two queues, as upstream: claims by namespace/name, volumes by name.
import type { ConfigMap, Node, PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { keyOf, type Informer } from "../../client/informer.ts";
import { refs } from "../../client/refs.ts";
import { ApiError } from "../../client/types.ts";
import { controllerQueue, type Controller, type ControllerContext } from "../context.ts";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  findMatchingVolume,
} from "../../api/volumes.ts";
import { ANN_LOCAL_PATH_NODE, basePathFor, LOCAL_PATH_CONFIG, LOCAL_PATH_FINALIZER, LOCAL_PATH_PROVISIONER } from "../../api/localpath.ts";
import { localPathVolume, volumeName } from "./localpath.ts";

const RESYNC_MS = 15_000;
const NO_PROVISIONER = "kubernetes.io/no-provisioner";

export function newPersistentVolumeController(ctx: ControllerContext): Controller {
  const claims: Informer<PersistentVolumeClaim> = ctx.informers.informerFor(refs.persistentvolumeclaims);
  const volumes: Informer<PersistentVolume> = ctx.informers.informerFor(refs.persistentvolumes);
  const classes: Informer<StorageClass> = ctx.informers.informerFor(refs.storageclasses);
  const nodes: Informer<Node> = ctx.informers.informerFor(refs.nodes);
  const configs: Informer<ConfigMap> = ctx.informers.informerFor(refs.configmaps, { namespace: "kube-system", fieldSelector: `metadata.name=${LOCAL_PATH_CONFIG}` });
  const recorder = ctx.recorder("persistentvolume-controller");
  const provisionerEvents = ctx.recorder(`${LOCAL_PATH_PROVISIONER}_${ctx.options.identity.split("_")[0]}`);
  const claimQ = controllerQueue(ctx, "persistentvolume-claims");
  const volumeQ = controllerQueue(ctx, "persistentvolume-volumes");
  const pvcs = (ns: string) => ctx.client.resource<PersistentVolumeClaim>(refs.persistentvolumeclaims, ns);
  const pvs = ctx.client.resource<PersistentVolume>(refs.persistentvolumes);

  const claimChanged = (c: PersistentVolumeClaim) => {
    claimQ.queue.add(keyOf(c));
    if (c.spec?.volumeName) volumeQ.queue.add(c.spec.volumeName);
  };
  claims.addEventHandler({ onAdd: claimChanged, onUpdate: (_o, c) => claimChanged(c), onDelete: claimChanged });
  const volumeChanged = (v: PersistentVolume) => {
    volumeQ.queue.add(v.metadata!.name!);
    const ref = v.spec?.claimRef;
    if (ref?.name && ref.namespace) claimQ.queue.add(`${ref.namespace}/${ref.name}`);
  };
  const pendingClaims = () => {
    for (const c of claims.list()) if (!c.spec?.volumeName || c.status?.phase !== "Bound") claimQ.queue.add(keyOf(c));
  };
  // A new volume may be what a pending claim waits for.
  volumes.addEventHandler({
    onAdd: (v) => {
      volumeChanged(v);
      pendingClaims();
    },
    onUpdate: (_o, v) => volumeChanged(v),
    onDelete: volumeChanged,
  });
  classes.addEventHandler({ onAdd: pendingClaims, onUpdate: pendingClaims });
  nodes.addEventHandler({
    onDelete: (n) => {
      for (const v of volumes.list()) if (v.metadata?.deletionTimestamp && v.metadata.annotations?.[ANN_LOCAL_PATH_NODE] === n.metadata?.name) volumeQ.queue.add(v.metadata!.name!);
    },
  });

  async function setClaimStatus(pvc: PersistentVolumeClaim, phase: string, pv?: PersistentVolume): Promise<PersistentVolumeClaim> {
    const s = pvc.status ?? {};
    const capacity = pv?.spec?.capacity;
    const modes = pv?.spec?.accessModes;
    if (s.phase === phase && (!pv || (JSON.stringify(s.capacity) === JSON.stringify(capacity) && JSON.stringify(s.accessModes) === JSON.stringify(modes)))) return pvc;
    const status = { ...s, phase } as NonNullable<PersistentVolumeClaim["status"]>;
    if (pv) {
      status.capacity = capacity;
      status.accessModes = modes;
    }
    return pvcs(pvc.metadata!.namespace!).updateStatus({ ...pvc, status });
  }

  async function setVolumePhase(pv: PersistentVolume, phase: string, message?: string): Promise<PersistentVolume> {
    if (pv.status?.phase === phase && (pv.status?.message ?? undefined) === message) return pv;
    return pvs.updateStatus({ ...pv, status: { ...(pv.status ?? {}), phase, message, reason: phase === "Failed" ? pv.status?.reason : undefined } });
  }

  /** Upstream bind(): the volume's claimRef first, then the claim's volumeName, then both statuses. */
  async function bind(pv: PersistentVolume, pvc: PersistentVolumeClaim): Promise<void> {
    const ns = pvc.metadata!.namespace!;
    if (pv.spec?.claimRef?.uid !== pvc.metadata!.uid) {
      const next = structuredClone(pv);
      const preBound = !!next.spec!.claimRef;
      next.spec!.claimRef = { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: ns, name: pvc.metadata!.name, uid: pvc.metadata!.uid, resourceVersion: pvc.metadata!.resourceVersion };
      if (!preBound) next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: "yes" };
      pv = await pvs.update(next);
    }
    pv = await setVolumePhase(pv, "Bound");
    if (pvc.spec?.volumeName !== pv.metadata!.name || pvc.metadata?.annotations?.[ANN_BIND_COMPLETED] !== "yes") {
      const next = structuredClone(pvc);
      const ann = (next.metadata!.annotations ??= {});
      if (next.spec!.volumeName !== pv.metadata!.name) ann[ANN_BOUND_BY_CONTROLLER] = "yes";
      ann[ANN_BIND_COMPLETED] = "yes";
      next.spec!.volumeName = pv.metadata!.name;
      pvc = await pvcs(ns).update(next);
    }
    await setClaimStatus(pvc, "Bound", pv);
  }

  async function syncClaim(key: string): Promise<void> {
    const pvc = claims.get(key);
    if (!pvc) return;
    // A volumeName the user set is a request until binding completes (upstream: AnnBindCompleted).
    if (!pvc.spec?.volumeName || pvc.metadata?.annotations?.[ANN_BIND_COMPLETED] !== "yes") return syncUnboundClaim(pvc);
    const pv = volumes.get(pvc.spec.volumeName);
    if (!pv) {
      if (pvc.status?.phase !== "Lost") {
        await setClaimStatus(pvc, "Lost");
        void recorder.event(pvc, "Warning", "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!");
      }
      return;
    }
    const ref = pv.spec?.claimRef;
    if (!ref || ref.uid === pvc.metadata!.uid || (!ref.uid && ref.name === pvc.metadata!.name && ref.namespace === pvc.metadata!.namespace)) return bind(pv, pvc);
    if (pvc.status?.phase !== "Lost") {
      await setClaimStatus(pvc, "Lost");
      void recorder.event(pvc, "Warning", "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly");
    }
  }

  async function syncUnboundClaim(pvc: PersistentVolumeClaim): Promise<void> {
    if (pvc.metadata?.deletionTimestamp) return;
    const requested = pvc.spec?.volumeName;
    if (requested) {
      // Pre-bound by the user: that volume or nothing (it may not exist yet).
      const pv = volumes.get(requested);
      const ref = pv?.spec?.claimRef;
      const free = pv && (!ref || (ref.name === pvc.metadata!.name && ref.namespace === pvc.metadata!.namespace && (!ref.uid || ref.uid === pvc.metadata!.uid)));
      if (free && findMatchingVolume(pvc, [pv!])) return bind(pv!, pvc);
      if (pvc.status?.phase !== "Pending") await setClaimStatus(pvc, "Pending");
      if (pv && free) void recorder.event(pvc, "Warning", "VolumeMismatch", "Cannot bind to requested volume \"" + requested + "\": the volume does not satisfy the claim");
      return;
    }
    const cls = claimClass(pvc);
    const sc = cls ? classes.get(cls) : undefined;
    const delayed = sc?.volumeBindingMode === "WaitForFirstConsumer";
    const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (delayed && !selected) {
      if (pvc.status?.phase !== "Pending") await setClaimStatus(pvc, "Pending");
      void recorder.event(pvc, "Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding");
      return;
    }
    const node = selected ? nodes.get(selected) : undefined;
    // Delayed binding only takes volumes reachable from the chosen node.
    const pv = delayed && !node ? undefined : findMatchingVolume(pvc, volumes.values(), delayed ? node : undefined);
    if (pv) return bind(pv, pvc);
    if (pvc.status?.phase !== "Pending") await setClaimStatus(pvc, "Pending");
    if (!cls) {
      void recorder.event(pvc, "Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set");
      return;
    }
    if (!sc) {
      void recorder.event(pvc, "Warning", "ProvisioningFailed", `storageclass.storage.k8s.io "${cls}" not found`);
      return;
    }
    if (sc.provisioner === NO_PROVISIONER) {
      void recorder.event(pvc, "Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set");
      return;
    }
    // Tell provisioners the claim is theirs (upstream setClaimProvisioner).
    if (pvc.metadata?.annotations?.[ANN_STORAGE_PROVISIONER] !== sc.provisioner) {
      const next = structuredClone(pvc);
      next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), [ANN_STORAGE_PROVISIONER]: sc.provisioner, [ANN_BETA_STORAGE_PROVISIONER]: sc.provisioner };
      await pvcs(pvc.metadata!.namespace!).update(next);
      return; // the update comes back through the watch
    }
    if (sc.provisioner !== LOCAL_PATH_PROVISIONER) {
      void recorder.event(
        pvc,
        "Normal",
        "ExternalProvisioning",
        `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
      return;
    }
    await provisionLocalPath(pvc, sc, selected, node);
  }

  async function provisionLocalPath(pvc: PersistentVolumeClaim, sc: StorageClass, selected: string | undefined, node: Node | undefined): Promise<void> {
    const claim = `${pvc.metadata!.namespace}/${pvc.metadata!.name}`;
    const failed = (why: string) => provisionerEvents.event(pvc, "Warning", "ProvisioningFailed", `failed to provision volume with StorageClass "${sc.metadata!.name}": ${why}`);
    if (!selected) return void failed("configuration error, no node was specified");
    if (!node) return void failed(`node "${selected}" not found`);
    if (volumes.get(volumeName(pvc))) return; // provisioned already; binding follows its watch event
    const base = basePathFor(configs.getByName("kube-system", LOCAL_PATH_CONFIG)?.data?.["config.json"], selected);
    if (!base) return void failed(`no local path configured for node ${selected} in kube-system/${LOCAL_PATH_CONFIG}`);
    void provisionerEvents.event(pvc, "Normal", "Provisioning", `External provisioner is provisioning volume for claim "${claim}"`);
    try {
      await pvs.create(localPathVolume(pvc, sc, node, base));
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) {
        void failed((e as Error).message);
        throw e;
      }
      return;
    }
    void provisionerEvents.event(pvc, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${volumeName(pvc)}`);
  }

  async function syncVolume(name: string): Promise<void> {
    const pv = volumes.get(name);
    if (!pv) return;
    if (pv.metadata?.deletionTimestamp) await releaseOrphanedLocalPath(pv);
    const ref = pv.spec?.claimRef;
    if (!ref) {
      if (!pv.metadata?.deletionTimestamp) await setVolumePhase(pv, "Available");
      return;
    }
    if (!ref.uid) {
      // Pre-bound by an admin to a claim that may not exist yet.
      await setVolumePhase(pv, "Available");
      if (ref.namespace && ref.name) claimQ.queue.add(`${ref.namespace}/${ref.name}`);
      return;
    }
    let claim = claims.getByName(ref.namespace, ref.name!);
    const released = pv.status?.phase === "Released" || pv.status?.phase === "Failed";
    if (!claim && !released) {
      // The cache may be behind: only the API server's 404 releases a volume.
      try {
        claim = await pvcs(ref.namespace!).get(ref.name!);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    if (!claim || claim.metadata?.uid !== ref.uid) return releaseAndReclaim(pv);
    if (!claim.spec?.volumeName || claim.spec.volumeName === name) {
      await setVolumePhase(pv, "Bound");
      if (!claim.spec?.volumeName) claimQ.queue.add(keyOf(claim));
      return;
    }
    // The claim went to another volume: a volume the controller bound goes back to the pool (upstream unbindVolume).
    if (pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] === "yes") {
      const next = structuredClone(pv);
      delete next.spec!.claimRef;
      delete next.metadata!.annotations![ANN_BOUND_BY_CONTROLLER];
      await setVolumePhase(await pvs.update(next), "Available");
    }
  }

  /**
   * A local-path volume being deleted waits for its node's agent to remove the directory; when that Node object is
   * gone for good (deleted from the cluster), nobody will, so the finalizer is dropped here and the data is left.
   */
  async function releaseOrphanedLocalPath(pv: PersistentVolume): Promise<void> {
    if (!pv.metadata?.finalizers?.includes(LOCAL_PATH_FINALIZER)) return;
    const node = pv.metadata.annotations?.[ANN_LOCAL_PATH_NODE];
    if (!node || nodes.get(node)) return;
    try {
      await ctx.client.resource(refs.nodes).get(node);
      return; // the cache is behind
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
    void recorder.event(pv, "Warning", "VolumeCleanupSkipped", `node "${node}" no longer exists: the volume's directory there was not removed`);
    await pvs.update({ ...pv, metadata: { ...pv.metadata, finalizers: pv.metadata.finalizers.filter((f) => f !== LOCAL_PATH_FINALIZER) } });
  }

  async function releaseAndReclaim(pv: PersistentVolume): Promise<void> {
    const name = pv.metadata!.name!;
    if (pv.status?.phase !== "Released" && pv.status?.phase !== "Failed") pv = await setVolumePhase(pv, "Released");
    if (pv.status?.phase === "Failed" || pv.metadata?.deletionTimestamp) return;
    switch (pv.spec?.persistentVolumeReclaimPolicy ?? "Retain") {
      case "Retain":
        return;
      case "Recycle": {
        const msg = "No recycler plugin found for the volume!";
        await setVolumePhase(pv, "Failed", msg);
        void recorder.event(pv, "Warning", "VolumeFailedRecycle", msg);
        return;
      }
      case "Delete": {
        if (pv.metadata?.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER) {
          // The node's agent removes the directory, then its finalizer (LOCAL_PATH_FINALIZER) lets the object go.
          await pvs.delete(name).catch((e) => {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          });
          return;
        }
        const msg = `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`;
        await setVolumePhase(pv, "Failed", msg);
        void recorder.event(pv, "Warning", "VolumeFailedDelete", msg);
      }
    }
  }

  return {
    name: "persistentvolume-binder",
    async run() {
      const timer = setInterval(() => {
        pendingClaims();
        for (const v of volumes.list()) if (v.status?.phase !== "Bound" || !v.spec?.claimRef) volumeQ.queue.add(v.metadata!.name!);
      }, RESYNC_MS);
      try {
        await Promise.all([claimQ.run(syncClaim), volumeQ.run(syncVolume)]);
      } finally {
        clearInterval(timer);
      }
    },
  };
}
