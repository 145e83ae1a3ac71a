/**
 * A SCIM 2.0 service provider for demos, tests and benchmarks, written from RFC 7643/7644 and
 * RFC 9865 and sharing no SCIM code with scimform's client or planner, so one misreading of the
 * RFCs cannot hide in both.
 */
import { Emulator } from './server.js';
import type { EmulatorOptions, RunningEmulator } from './types.js';

export type { EmulatorFaults, EmulatorOptions, EmulatorQuirks, EmulatorStats, LoggedRequest, RunningEmulator } from './types.js';

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return new Emulator(options).listen();
}

/** Starts an emulator and also returns a one-line description of how it behaves (for the CLI). */
export async function startEmulatorWithDescription(options: EmulatorOptions = {}): Promise<{ emulator: RunningEmulator; description: string }> {
  const instance = new Emulator(options);
  const emulator = await instance.listen();
  return { emulator, description: instance.describe() };
}
