// The list of controllers the manager runs, by upstream name.

import type { Controller, ControllerContext } from "./context.ts";
import { newDeploymentController } from "./deployment/controller.ts";
import { newReplicaSetController } from "./replicaset/controller.ts";

export interface ControllerEntry {
  name: string;
  create(ctx: ControllerContext): Controller;
}

export const CONTROLLERS: ControllerEntry[] = [
  { name: "replicaset", create: newReplicaSetController },
  { name: "deployment", create: newDeploymentController },
];
