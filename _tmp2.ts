import { splitRatings, type Ratings } from './src/data/movielens.js';
import { createRbmCf, trainRbmCf, predictRatings } from './src/models/rbmCf/model.js';
import { rmse, fitBiases } from './src/models/rbmCf/baselines.js';
import { key, uniformArray } from './src/random/index.js';
const nU = 200, nI = 100; const u = uniformArray(key(9), nU*nI, 'float64');
const us: number[] = [], is: number[] = [], rs: number[] = [];
for (let a = 0; a < nU; a++) for (let i = 0; i < nI; i++) if (u[a*nI+i] < 0.3) { us.push(a); is.push(i); rs.push(((a%2) ^ (i < 50 ? 1 : 0)) ? 5 : 1); }
const r: Ratings = { user: Int32Array.from(us), item: Int32Array.from(is), rating: Float64Array.from(rs), nUsers: nU, nItems: nI, userIds: [...Array(nU).keys()], itemIds: [...Array(nI).keys()] };
const { train, test } = splitRatings(r, key(1), 0.1);
console.log('bias', rmse(fitBiases(train).predict(test), test.rating));
const p = createRbmCf({ nItems: nI, levels: [1,5], nHidden: 10, key: key(3), ratings: train });
trainRbmCf(p, train, key(4), { epochs: 20, learningRate: Number(process.argv[2]), batchSize: 10, onEpoch: (i) => console.log(i.epoch, i.T, i.reconError.toFixed(3), rmse(predictRatings(p, train, test), test.rating).toFixed(4)) });
