#!/usr/bin/env bun
// kubun: one binary, thin command layer (cli.ts); the real work lives in internal/.
// @peculiar/x509 (via tsyringe) needs the Reflect polyfill before any of it loads; in the compiled
// bundle only the entry point's first import is guaranteed to run first.
import "reflect-metadata";
// Second: server and agent restart themselves once with their JIT options (jitpolicy.ts). The commands load only
// after it (a dynamic import), so a restart does not first evaluate all of kubun.
import "./jitpolicy.ts";

void import("./cli.ts");
