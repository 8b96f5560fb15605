/**
 * The CLI's view of the library's model registry (`src/models/registry.ts`): `ebm sample`, `ebm eval` and `ebm score`
 * load any model file through it.
 */
export {
  registerModelKind, modelKinds, openModel as loadAnyModel, decodeModel,
  type LoadedModel, type ModelKindHandler, type SampleOptions, type EvalOptions, type PlotOptions, type ScoreColumn,
} from '../models/registry.js';
