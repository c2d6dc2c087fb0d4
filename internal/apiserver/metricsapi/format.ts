// Quantities and durations as metrics-server writes them: CPU as a nano-scaled Quantity in canonical form
// ("12345678n", "250m", "2"), memory as a binary-SI Quantity ("1234Ki", or bytes), windows as Go durations.
import { formatQuantity } from "../../api/quantity.ts";

export function cpuQuantity(nanoCores: number): string {
  const n = Math.max(0, Math.round(nanoCores));
  if (n === 0) return "0";
  if (n % 1e9 === 0) return String(n / 1e9);
  if (n % 1e6 === 0) return `${n / 1e6}m`;
  if (n % 1e3 === 0) return `${n / 1e3}u`;
  return `${n}n`;
}

export function memoryQuantity(bytes: number): string {
  return formatQuantity(Math.max(0, Math.round(bytes)), { binary: true });
}

/** Go's time.Duration.String() for a non-negative number of milliseconds ("15.002s", "1m0.5s"). */
export function goDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${+ms.toFixed(3)}ms`;
  const totalSec = ms / 1000;
  const h = Math.floor(totalSec / 3600);
  const m = Math.floor((totalSec % 3600) / 60);
  const s = +(totalSec % 60).toFixed(3);
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}
