// A provider mirror whose only provider never answers terraform's plugin handshake and ignores
// SIGINT: terraform then cannot stop gracefully, which is what the forced-kill tests need.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface HangingProvider {
  mirrorDir: string;
  /** An argument unique to this provider's process, to find it in /proc. */
  marker: string;
  template: string;
}

export function createHangingProvider(root: string): HangingProvider {
  const marker = `6${Math.floor(Math.random() * 1e6)}.${Math.floor(Math.random() * 1e6)}`;
  const mirrorDir = join(root, "hanging-mirror");
  const dir = join(mirrorDir, "registry.terraform.io/test/hang/1.0.0/linux_amd64");
  mkdirSync(dir, { recursive: true });
  const executable = join(dir, "terraform-provider-hang_v1.0.0");
  // `sleep <marker>`: sleeps ~60 s and is easy to find by its argument.
  writeFileSync(executable, `#!/bin/sh\ntrap "" INT\nexec sleep ${marker}\n`);
  chmodSync(executable, 0o755);
  const template = `terraform {
  required_providers {
    hang = { source = "test/hang", version = "1.0.0" }
  }
}
data "hang_thing" "x" {}
`;
  return { mirrorDir, marker, template };
}
