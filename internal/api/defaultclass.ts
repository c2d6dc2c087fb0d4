// Default classes (StorageClass, IngressClass): the annotations that mark one default, and upstream's rule for
// several marked ones (GetDefaultClass, the DefaultIngressClass plugin): the newest wins, then the first by name.

/** Either annotation "true" marks a StorageClass default (upstream IsDefaultAnnotation). */
export const DEFAULT_STORAGE_CLASS_ANNOTATIONS = ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"];

export function isDefaultStorageClass(sc: { metadata?: { annotations?: Record<string, string> } }): boolean {
  const a = sc.metadata?.annotations ?? {};
  return DEFAULT_STORAGE_CLASS_ANNOTATIONS.some((k) => a[k] === "true");
}

/** Among the classes `isDefault` accepts, the newest by creationTimestamp (then the first by name). */
export function newestDefaultClass<T extends { metadata?: { name?: string; creationTimestamp?: string } }>(classes: T[], isDefault: (c: T) => boolean): T | undefined {
  const defaults = classes.filter(isDefault);
  defaults.sort((a, b) => {
    const ta = Date.parse(a.metadata?.creationTimestamp ?? "") || 0;
    const tb = Date.parse(b.metadata?.creationTimestamp ?? "") || 0;
    return tb - ta || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
  });
  return defaults[0];
}
