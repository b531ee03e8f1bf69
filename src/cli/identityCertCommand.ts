import { loadConfig } from '../config/load.ts';
import { loadIdentitySigner } from '../identity/identitySigner.ts';
import { defaultStatePath, openStateStore } from '../store/stateStore.ts';
import { configFlagsFrom } from './serveCommand.ts';

/** `imdsd identity-cert`: the PEM certificate that verifies the identity document signatures. */
export function identityCertCommand(args: string[]): number {
  const { config } = loadConfig(configFlagsFrom(args));
  const store = openStateStore(config.state ?? defaultStatePath());
  try {
    process.stdout.write(loadIdentitySigner(store).certificatePem);
  } finally {
    store.close();
  }
  return 0;
}
