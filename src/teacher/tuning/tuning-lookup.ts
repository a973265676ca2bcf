/** Finds the tuning files that apply to one ONNX file under a device setting (what layout-choice.ts tries). */
import type { Device } from '../device.js';
import { readTuning, type TuningLookup } from './tuning-file.js';
import { machineIdentity, modelIdentity, onnxruntimeVersion, tuningKey, tuningPath, type TunedDevice } from './tuning-identity.js';

/** Device `auto` uses a CUDA tuning when one exists (it was measured where CUDA ran), else the CPU's. */
export function tunedDevicesFor(device: Device): TunedDevice[] {
  return device === 'auto' ? ['cuda', 'cpu'] : [device];
}

export function lookupTunings(onnxPath: string, device: Device, env: NodeJS.ProcessEnv = process.env): TuningLookup[] {
  const model = modelIdentity(onnxPath);
  if (!model) return [];
  const onnxruntime = onnxruntimeVersion();
  return tunedDevicesFor(device).map((d) => {
    const machine = machineIdentity(d);
    return readTuning(tuningPath(tuningKey(model.path, machine), env), { model, machine, onnxruntime });
  });
}
