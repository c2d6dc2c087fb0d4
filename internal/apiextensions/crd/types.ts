// Small accessors over CustomResourceDefinition objects shared by validation, the controllers and serving.
import type { CustomResourceDefinition, CustomResourceDefinitionVersion } from "kubernetes-types/apiextensions/v1";
import type { Schema } from "../schema/types.ts";

export type CRD = CustomResourceDefinition & { metadata: Record<string, any>; spec: NonNullable<CustomResourceDefinition["spec"]> };
export type CRDVersion = CustomResourceDefinitionVersion;

export const CRD_GROUP = "apiextensions.k8s.io";
export const CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

export function storageVersion(crd: CRD): CRDVersion | undefined {
  return crd.spec.versions?.find((v) => v.storage);
}

export function versionSchema(crd: CRD, version: string): Schema | undefined {
  return crd.spec.versions?.find((v) => v.name === version)?.schema?.openAPIV3Schema as Schema | undefined;
}

export function condition(crd: CRD, type: string) {
  return crd.status?.conditions?.find((c) => c.type === type);
}

export function isEstablished(crd: CRD): boolean {
  return condition(crd, "Established")?.status === "True";
}
