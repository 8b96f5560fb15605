// Recipe: anomaly scores for the rows of my CSV file (docs/recipes/anomaly-csv.md).
// Run: npx tsx docs/recipes/anomaly-csv.ts normal.csv new.csv > scores.csv
import { key, anomaly } from 'ebm-ts';
import { loadCsv } from 'ebm-ts/node';

/** Fits an energy-based detector on the normal rows of `trainCsv` and scores the rows of `testCsv`. */
export async function anomalyScores(trainCsv: string, testCsv: string, steps = 300) {
  const train = (await loadCsv(trainCsv)).data;            // Tensor [n, d]; a header row is detected and skipped
  const test = (await loadCsv(testCsv)).data;              // same columns
  // A deep EBM (MLP energy trained by contrastive divergence); the score is its energy E(x): higher = more anomalous.
  const scorer = anomaly.deepEbmScorer({ hidden: [64, 64], steps });
  const detector = new anomaly.AnomalyDetector(scorer, { contamination: 0.05 }).fit(train, key(0));
  return {
    scores: detector.score(test),                          // Float64Array [m]
    flagged: detector.predict(test),                       // Uint8Array [m], 1 = anomaly (score > threshold)
    threshold: detector.threshold,                         // flags 5 % of the training rows
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [train, test] = process.argv.slice(2);
  const { scores, flagged } = await anomalyScores(train, test);
  console.log('row,score,anomaly');
  scores.forEach((s, i) => console.log(`${i + 1},${s.toFixed(4)},${flagged[i]}`));
}
