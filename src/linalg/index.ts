/** kiln.linalg: decompositions and solves on batches of matrices (torch.linalg, camelCase). */
export { cholesky, choleskyEx, solveTriangular, solve, inv, slogdet, det, eigh, eigvalsh, qr } from './ops.js';
export { tril, triu, diagonal, diagEmbed } from './matrix.js';
