import { syntheticRatings, splitRatings } from './src/data/movielens.js';
import { createRbmCf, trainRbmCf, predictRatings, ratingLevels } from './src/models/rbmCf/model.js';
import { rmse, fitGlobalMean, fitBiases, fitMatrixFactorization } from './src/models/rbmCf/baselines.js';
import { key } from './src/random/index.js';
const [nU, nI, F, ep, lr] = process.argv.slice(2).map(Number);
const { ratings } = syntheticRatings(key(0), { nUsers: nU, nItems: nI, rank: 5, density: 0.1 });
const { train, test } = splitRatings(ratings, key(1), 0.1);
console.log('n', ratings.rating.length);
const t = test.rating;
console.log('global', rmse(fitGlobalMean(train).predict(test), t));
console.log('bias', rmse(fitBiases(train).predict(test), t));
let t0 = performance.now();
console.log('mf', rmse(fitMatrixFactorization(train, key(2)).predict(test), t), performance.now()-t0);
const p = createRbmCf({ nItems: train.nItems, levels: ratingLevels(ratings), nHidden: F, key: key(3), ratings: train, weightScale: Number(process.argv[10] ?? 0.01) });
t0 = performance.now();
trainRbmCf(p, train, key(4), { epochs: ep, learningRate: lr, batchSize: Number(process.argv[7] ?? 20), cdSteps: [1,3,5], momentum: Number(process.argv[8] ?? 0.9), weightDecay: Number(process.argv[9] ?? 0.001), onEpoch: (i) => { if (i.epoch % 2 === 0) console.log(i.epoch, i.T, i.reconError.toFixed(3), rmse(predictRatings(p, train, test), t).toFixed(4)); } });
console.log('rbm', rmse(predictRatings(p, train, test), t), performance.now()-t0);
let s=0, mx=0; for (const w of p.W) { s+=w*w; mx=Math.max(mx,Math.abs(w)); }
console.log('W rms', Math.sqrt(s/p.W.length), 'max', mx, 'c', Array.from(p.c.slice(0,5)).map(v=>v.toFixed(2)), 'b', Array.from(p.b.slice(0,5)).map(v=>v.toFixed(2)));
