// A CRD the size of a real operator's (thousands of schema lines), generated: many components, each with
// nested objects, lists, maps, enums and defaults, plus a sample object that uses part of it.
export function bigCRD(components = 60) {
  const component = (i: number) => ({
    type: "object",
    description: `Component ${i} of the cluster.`,
    properties: {
      enabled: { type: "boolean", default: true, description: `Whether component ${i} runs.` },
      replicas: { type: "integer", minimum: 0, maximum: 100, description: "Replica count." },
      image: { type: "string", pattern: "^[a-z0-9./:-]+$", description: "Container image." },
      mode: { type: "string", enum: ["active", "standby", "off"], default: "active" },
      resources: {
        type: "object",
        properties: {
          limits: { type: "object", additionalProperties: { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] } },
          requests: { type: "object", additionalProperties: { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] } },
        },
      },
      settings: {
        type: "object",
        description: `Settings of component ${i}.`,
        properties: Object.fromEntries(Array.from({ length: 8 }, (_, j) => [`option${j}`, { type: "string", maxLength: 253, description: `Option ${j}.` }])),
      },
      ports: {
        type: "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        items: { type: "object", required: ["name"], properties: { name: { type: "string" }, port: { type: "integer", format: "int32" }, protocol: { type: "string", enum: ["TCP", "UDP"], default: "TCP" } } },
      },
      tolerations: { type: "array", items: { type: "object", properties: { key: { type: "string" }, operator: { type: "string" }, value: { type: "string" }, effect: { type: "string" } } } },
    },
  });
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < components; i++) properties[`component${i}`] = component(i);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "clusters.big.example.com" },
    spec: {
      group: "big.example.com",
      scope: "Namespaced",
      names: { plural: "clusters", kind: "Cluster", shortNames: ["bc"], categories: ["big"] },
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties }, status: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } } },
      }],
    },
    sample: {
      apiVersion: "big.example.com/v1",
      kind: "Cluster",
      metadata: { name: "sample" },
      spec: { component0: { replicas: 3, image: "nginx:1.25", ports: [{ name: "http", port: 80 }], resources: { limits: { cpu: "500m", memory: 1024 } } } },
    },
  };
}
