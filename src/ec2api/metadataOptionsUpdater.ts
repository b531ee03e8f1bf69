import type { InstanceConfig } from '../config/schema.ts';
import { ImdsdError } from '../errors.ts';
import { persistMetadataOptions } from '../instances/buildInstances.ts';
import type { EmulatedInstance, MetadataOptions } from '../instances/instance.ts';
import type { StateStore } from '../store/stateStore.ts';

export type MetadataOptionsChanges = Partial<MetadataOptions>;

export interface MetadataOptionsUpdater {
  /** Merges the changes into the instance's options, stores them durably, then applies them. */
  update(instance: EmulatedInstance, changes: MetadataOptionsChanges): MetadataOptions;
}

/**
 * Persist first, then apply, then answer. The store write is synchronous (better-sqlite3,
 * WAL, synchronous=FULL): when it returns the row is on disk, and a process killed before it
 * returns keeps the previous row. Reading the current options, writing and applying happen in
 * one synchronous step, so two concurrent modifications cannot lose one another's changes.
 * A failed write applies nothing.
 */
export function createMetadataOptionsUpdater(
  store: StateStore,
  instanceConfigs: ReadonlyMap<string, InstanceConfig>,
): MetadataOptionsUpdater {
  return {
    update(instance, changes) {
      const instanceConfig = instanceConfigs.get(instance.instanceId);
      if (instanceConfig === undefined) {
        throw new ImdsdError(
          'INTERNAL',
          `instance ${instance.instanceId} has no config to persist its options against`,
        );
      }

      const options: MetadataOptions = { ...instance.metadataOptions, ...changes };
      persistMetadataOptions(store, instanceConfig, options);
      instance.applyMetadataOptions(options);
      return options;
    },
  };
}
