import { loadConfig } from '../config/load.ts';
import { loadIdentitySigner } from '../identity/identitySigner.ts';
import { defaultStatePath, openStateStore } from '../store/stateStore.ts';
import { parseFlags } from './parseFlags.ts';

/** Only what locates the state file: serve's other flags mean nothing here and are refused. */
const IDENTITY_CERT_FLAGS = {
  config: { type: 'string' },
  state: { type: 'string' },
} as const;

/** `imdsd identity-cert`: the PEM certificate that verifies the identity document signatures. */
export function identityCertCommand(args: string[]): number {
  const { config: configFile, state } = parseFlags(args, IDENTITY_CERT_FLAGS);
  const { config } = loadConfig({
    ...(configFile === undefined ? {} : { config: configFile }),
    ...(state === undefined ? {} : { state }),
  });
  const store = openStateStore(config.state ?? defaultStatePath());
  try {
    process.stdout.write(loadIdentitySigner(store).certificatePem);
  } finally {
    store.close();
  }
  return 0;
}
