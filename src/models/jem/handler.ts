/**
 * The `jem` model kind of the registry: a JEM model file (see {@link jemToFile}) loaded for `ebm eval` (accuracy, ECE,
 * NLL), `ebm score` (log p(x), max p(y|x)) and `ebm sample --class k`, and for {@link openModel} in a user's code.
 * @module
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { MLPParams } from '../../nn/index.js';
import { DataError } from '../../io/errors.js';
import { labelsToClasses, withLabelColumn } from '../../data/labels.js';
import type { LoadedModel, ModelKindHandler, ScoreColumn } from '../kind.js';
import { JEM_KIND, sampleJemModel, evaluateJemModel, jemModelScores, jemFromFile, describeJemNet, type JemConfig } from './kind.js';
import { jemGpuUnsupported, sampleJemModelGpu, jemModelScoresGpu } from './gpu.js';
import { InvalidArgumentError } from '../../errors.js';

/** The `ebm score` columns of JEM scores. */
function scoreColumnsOf(s: { logPx: Float64Array; maxProb: Float64Array; gradNorm: Float64Array }): ScoreColumn[] {
  return [
    { name: 'logPx', values: s.logPx, anomalous: 'lower' }, { name: 'maxProb', values: s.maxProb, anomalous: 'lower' },
    { name: 'gradNorm', values: s.gradNorm, anomalous: 'higher' },
  ];
}

/** The registry entry of the `jem` kind. */
export const jemKind: ModelKindHandler = {
  kind: JEM_KIND,
  description: 'joint energy-based model: MLP or conv-net classifier with E(x) = −logsumexp f(x); class-conditional SGLD samples',
  fromFile(file, path): LoadedModel {
    let m: { params: MLPParams; cfg: JemConfig };
    try {
      m = jemFromFile(file, path);
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw new DataError(e.message, { file: path });
      throw e;
    }
    const { params, cfg } = m;
    const checkRows = (x: Tensor): void => {
      if (x.ndim !== 2 || x.shape[1] !== cfg.dim) throw new DataError(`data has shape [${x.shape.join(', ')}] but the model takes rows of ${cfg.dim}`, { flag: 'data' });
    };
    return {
      kind: JEM_KIND,
      file,
      dim: cfg.dim,
      ...(cfg.imageShape ? { imageShape: [cfg.imageShape[0], cfg.imageShape[1]] as [number, number] } : {}),
      classes: cfg.classes,
      describe: () => `jem ${describeJemNet(cfg)} (${cfg.activation}, ${cfg.numClasses} classes)` + (file.provenance.data ? ` trained on ${String(file.provenance.data)}` : ''),
      sample: (o) => {
        const steps = o.steps ?? cfg.sgld.sampleSteps;
        const x = sampleJemModel(params, cfg, { key: o.key, n: o.n, steps, ...(o.classIndex !== undefined ? { classIndex: o.classIndex } : {}) });
        o.onProgress?.(steps, steps);
        return x;
      },
      sampleGpu: (o) => jemGpuUnsupported(cfg) ?? (async (gpu) => {
        const steps = o.steps ?? cfg.sgld.sampleSteps;
        const x = await sampleJemModelGpu(gpu, params, cfg, { key: o.key, n: o.n, steps, ...(o.classIndex !== undefined ? { classIndex: o.classIndex } : {}) });
        o.onProgress?.(steps, steps);
        return x;
      }),
      energy: (x) => {
        checkRows(x);
        return jemModelScores(params, cfg, x).logPx.map((v) => -v);
      },
      scoreColumns: (x) => {
        checkRows(x);
        return scoreColumnsOf(jemModelScores(params, cfg, x));
      },
      scoreGpu: (x) => {
        checkRows(x);
        return jemGpuUnsupported(cfg) ?? (async (gpu) => {
          const s = await jemModelScoresGpu(gpu, params, cfg, x);
          return { energy: s.logPx.map((v) => -v), columns: scoreColumnsOf(s) };
        });
      },
      prepareData: (data, labelColumn) => {
        // A CSV with one column more than the model: the label column used in training (or --label-column).
        const col = labelColumn ?? (cfg.labelColumn !== null && data.cols === cfg.dim + 1 ? cfg.labelColumn : undefined);
        return withLabelColumn(data, col);
      },
      evaluate: (data) => {
        checkRows(data.x);
        if (!data.labels) throw new DataError(`--data ${data.spec}: has no labels to evaluate the classifier on (CSV: --label-column)`);
        let y: Int32Array;
        try {
          y = labelsToClasses(data.labels, cfg.classes).y;
        } catch (e) {
          if (e instanceof DataError) throw new DataError(e.problem, { flag: 'data' });
          throw e;
        }
        const r = evaluateJemModel(params, cfg, data.x, y);
        return { rows: r.rows, accuracy: r.accuracy, ece: r.ece, nll: r.nll, avgLogPx: r.avgLogPx };
      },
    };
  },
};
