// A rank for the launcher tests (no Kiln inside):
//   env              prints its environment and arguments, and a last line without a newline
//   fail <rank> <n>  that rank exits with status n after 2 s; the others wait forever
//   wait             waits forever; reports the signal it gets, then exits 130
const [mode = 'env', ...rest] = process.argv.slice(2);
const rank = Number(process.env.RANK);
console.log(`PID ${process.pid}`);
if (mode === 'env') {
  const keys = ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'GROUP_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'KILN_NUM_THREADS', 'OMP_NUM_THREADS'];
  console.log('ENV ' + JSON.stringify({ ...Object.fromEntries(keys.map((k) => [k, process.env[k]])), args: rest }));
  console.error(`to stderr from ${rank}`);
  process.stdout.write('no newline at the end');
} else if (mode === 'fail') {
  if (rank === Number(rest[0])) setTimeout(() => process.exit(Number(rest[1])), 2000);
  else setInterval(() => {}, 1000);
} else if (mode === 'wait') {
  process.on('SIGINT', () => {
    console.log('got SIGINT');
    process.exit(130);
  });
  console.log('READY'); // the handler is in place
  setInterval(() => {}, 1000);
}
