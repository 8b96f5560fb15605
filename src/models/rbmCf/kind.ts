/**
 * The `rbm-cf` kind in the model registry: an RBM for collaborative filtering (one softmax visible unit per item,
 * Salakhutdinov et al. 2007). Loading through the registry checks the config and describes the model; the full file
 * codec (weights plus training ratings, with every tensor validated) is `loadRbmCf`/`saveRbmCf` of `io.ts`, and
 * recommendations come from `recommendForUser` of `model.ts`. The kind has no sampler or data evaluation.
 */
import { DataError } from '../../io/errors.js';
import type { ModelFile } from '../../io/model.js';
import type { LoadedModel, ModelKindHandler } from '../kind.js';
import { RBM_CF_KIND } from './io.js';

/** The registry entry of the kind (config check and description; see the module doc). */
export const rbmCfKind: ModelKindHandler = {
  kind: RBM_CF_KIND,
  description: 'RBM for collaborative filtering (softmax visible unit per item); used by ebm recommend',
  fromFile(file: ModelFile, path: string): LoadedModel {
    const c = file.config;
    const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
    const lv = c.levels;
    if (!posInt(c.nItems) || !posInt(c.nUsers) || !posInt(c.nHidden) || !Array.isArray(lv) || lv.length < 2) {
      throw new DataError('config needs positive integers nItems, nUsers, nHidden and a list of ≥ 2 numeric levels', { file: path });
    }
    return {
      kind: RBM_CF_KIND,
      file,
      dim: c.nItems as number,
      describe: () => `rbm-cf ${String(c.nItems)} items × ${lv.length} levels, ${String(c.nHidden)} hidden units, ${String(c.nUsers)} users` +
        (file.provenance.data ? ` trained on ${String(file.provenance.data)}` : ''),
    };
  },
};
