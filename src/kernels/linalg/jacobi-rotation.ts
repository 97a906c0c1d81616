// The plane rotation both Jacobi methods apply (eigh's two-sided, svd's one-sided): the smaller
// root t of t² + 2τt − 1 = 0 keeps the rotation angle ≤ π/4, which is what makes them converge.

/** cos and sin of the rotation that zeroes the off-diagonal of a 2 × 2 symmetric block, from τ = (a_qq − a_pp) / (2 a_pq). */
export const jacobiRotation = (tau: number): [number, number] => {
  const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
  const c = 1 / Math.sqrt(1 + t * t);
  return [c, t * c];
};

/** Columns p and q of a row-major `rows` × `cols` matrix become c·p − s·q and s·p + c·q. */
export const rotateColumns = (a: Float64Array, rows: number, cols: number, p: number, q: number, c: number, s: number): void => {
  for (let i = 0; i < rows; i++) {
    const x = a[i * cols + p]!;
    const y = a[i * cols + q]!;
    a[i * cols + p] = c * x - s * y;
    a[i * cols + q] = s * x + c * y;
  }
};
