// Recipe: Hamiltonian Monte Carlo on my own energy function (docs/recipes/hmc-energy.md).
// Run: npx tsx docs/recipes/hmc-energy.ts
import {
  key, normal, hmc, sample, chainsOf, essMultiChain, splitRhat, acceptanceRate, tensor, matmul, mul, sum,
  type Energy, type Tensor,
} from 'ebm-ts';

// My energy, written with the library's differentiable ops (autodiff supplies ∇E): a correlated Gaussian
// E(x) = ½ xᵀ P x with P = Σ⁻¹, Σ = [[1, ρ], [ρ, 1]] — unit variances, correlation ρ.
const rho = 0.8;
const P = tensor([[1, -rho], [-rho, 1]].map((r) => r.map((v) => v / (1 - rho * rho))));
export const myEnergy: Energy = {
  dim: 2,
  energy: (x: Tensor) => mul(sum(mul(matmul(x, P), x), 1), 0.5),   // x [n, 2] → E [n]
};

/** Runs 32 HMC chains and summarises: per-coordinate mean and variance, correlation, ESS, split-R̂, acceptance. */
export function hmcOnMyEnergy(steps = 600) {
  const run = sample(hmc(myEnergy, { stepSize: 0.25, leapfrogSteps: 10 }), {
    key: key(0), init: normal(key(1), [32, 2]), steps, burnIn: 100,
  });
  const x = run.samples.data;                               // [kept, chains, 2], flattened
  const n = x.length / 2;
  let m1 = 0, m2 = 0;
  for (let i = 0; i < n; i++) { m1 += x[2 * i]; m2 += x[2 * i + 1]; }
  m1 /= n; m2 /= n;
  let v1 = 0, v2 = 0, c = 0;
  for (let i = 0; i < n; i++) {
    const a = x[2 * i] - m1, b = x[2 * i + 1] - m2;
    v1 += a * a; v2 += b * b; c += a * b;
  }
  const chains = chainsOf(run.samples, (row) => row[0]);   // first coordinate, one series per chain
  return {
    mean: [m1, m2], variance: [v1 / n, v2 / n], correlation: c / Math.sqrt(v1 * v2),
    ess: essMultiChain(chains), rhat: splitRhat(chains), acceptance: acceptanceRate(run.infos),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(hmcOnMyEnergy());
