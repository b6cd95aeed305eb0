// kiln.utils.summary against parameter and multiply-add counts worked out by hand (each figure's
// arithmetic is in the comment beside it), on three models: an MLP, a CNN with batch norm and a
// frozen weight, and an embedding + 2-layer LSTM + linear head.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { trackedTensors } from '../helpers/memory.js';

const { nn } = kiln;

class SeqModel extends nn.Module {
  emb = new nn.Embedding(50, 16);
  lstm = new nn.LSTM(16, 32, { numLayers: 2, batchFirst: true });
  head = new nn.Linear(32, 5);
  forward(ids: kiln.Tensor): kiln.Tensor {
    const [out] = this.lstm.forward(this.emb.forward(ids));
    return this.head.forward(out.select(1, -1));
  }
}

describe('summary', () => {
  it('MLP 784-512-256-10 at batch 4', () => {
    kiln.manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(784, 512), new nn.ReLU(), new nn.Linear(512, 256), new nn.ReLU(), new nn.Linear(256, 10));
    const before = trackedTensors();
    const s = kiln.utils.summary(model, [4, 784], { verbose: false });
    expect(trackedTensors()).toBe(before);
    expect(s.rows.map((r) => [r.type, r.depth])).toEqual([['Sequential', 0], ['Linear', 1], ['ReLU', 1], ['Linear', 1], ['ReLU', 1], ['Linear', 1]]);
    expect(s.rows.map((r) => r.outputShape)).toEqual([[4, 10], [4, 512], [4, 512], [4, 256], [4, 256], [4, 10]]);
    // 784*512+512 = 401,920; 512*256+256 = 131,328; 256*10+10 = 2,570
    expect(s.rows.map((r) => r.params)).toEqual([0, 401920, 0, 131328, 0, 2570]);
    expect(s.totalParams).toBe(535818);
    expect(s.trainableParams).toBe(535818);
    // 4 rows x (784*512, 512*256, 256*10) = 1,605,632 + 524,288 + 10,240
    expect(s.rows.map((r) => r.multAdds)).toEqual([0, 1605632, 0, 524288, 0, 10240]);
    expect(s.totalMultAdds).toBe(2140160);
    // leaf outputs 4*(512+512+256+256+10) floats = 6,184 x 4 bytes, twice (with gradients)
    expect(s.forwardBackwardBytes).toBe(2 * 4 * 6184);
    expect(s.inputBytes).toBe(4 * 784 * 4);
    expect(s.paramBytes).toBe(535818 * 4);
    const table = s.toString();
    expect(table).toContain('Total params: 535,818');
    expect(table).toContain('Total mult-adds (M): 2.14');
    expect(table).toMatch(/├─Linear \(0\): 1-1 +\[4, 512\] +401,920 +True +1,605,632/);
  });

  it('CNN with batch norm, pooling and a frozen weight at batch 2', () => {
    kiln.manualSeed(0);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(256, 10));
    (model.at(1) as any).weight.requiresGrad = false;
    model.train();
    const s = kiln.utils.summary(model, [2, 1, 12, 12], { verbose: false });
    expect(model.training).toBe(true); // mode restored
    expect(s.rows.slice(1).map((r) => r.outputShape)).toEqual([
      [2, 8, 12, 12], [2, 8, 12, 12], [2, 8, 12, 12], [2, 8, 6, 6], [2, 16, 4, 4], [2, 16, 4, 4], [2, 256], [2, 10]]);
    // conv1 8*1*9+8 = 80; bn 8+8 = 16; conv2 16*8*9+16 = 1,168; linear 256*10+10 = 2,570
    expect(s.rows.slice(1).map((r) => r.params)).toEqual([80, 16, 0, 0, 1168, 0, 0, 2570]);
    expect(s.totalParams).toBe(3834);
    expect(s.trainableParams).toBe(3826);
    expect(s.rows[2].trainable).toBe('Partial');
    // conv1 2*8*12*12 outputs x 1*3*3 = 20,736; bn 2*8*12*12 = 2,304; conv2 2*16*4*4 x 8*3*3 = 36,864; linear 2*256*10 = 5,120
    expect(s.rows.slice(1).map((r) => r.multAdds)).toEqual([20736, 2304, 0, 0, 36864, 0, 0, 5120]);
    expect(s.totalMultAdds).toBe(65024);
    expect(s.toString()).toContain('Non-trainable params: 8');
  });

  it('Embedding + 2-layer LSTM + Linear on int32 token ids [3, 7]', () => {
    kiln.manualSeed(0);
    const model = new SeqModel();
    const s = kiln.utils.summary(model, [3, 7], { dtypes: ['int32'], verbose: false });
    expect(s.rows.map((r) => [r.type, r.name, r.depth])).toEqual([['SeqModel', '', 0], ['Embedding', 'emb', 1], ['LSTM', 'lstm', 1], ['Linear', 'head', 1]]);
    expect(s.rows[2].outputShape).toEqual([[3, 7, 32], [[2, 3, 32], [2, 3, 32]]]);
    // emb 50*16 = 800; lstm l0 128*16 + 128*32 + 2*128 = 6,400, l1 128*32*2 + 256 = 8,448; head 32*5+5 = 165
    expect(s.rows.map((r) => r.params)).toEqual([0, 800, 14848, 165]);
    expect(s.totalParams).toBe(15813);
    // lstm: 21 steps x 128 gate rows x (16+32) = 129,024, + 21 x 128 x (32+32) = 172,032; head 3*32*5 = 480
    expect(s.rows.map((r) => r.multAdds)).toEqual([0, 0, 301056, 480]);
    expect(s.totalMultAdds).toBe(301536);
  });

  it('counts a transposed convolution per input pixel, and rejects bad options', () => {
    kiln.manualSeed(0);
    const up = new nn.ConvTranspose2d(4, 2, 3, { stride: 2 });
    // 4*5*5 input values, each meets 2*3*3 taps: 1,800; output (5-1)*2+3 = 11
    const s = kiln.utils.summary(up, [1, 4, 5, 5], { verbose: false });
    expect(s.rows[0].outputShape).toEqual([1, 2, 11, 11]);
    expect(s.totalMultAdds).toBe(1800);
    expect(() => kiln.utils.summary(up, [1, 4, 5, 5], { verbose: false, colNames: [] } as any)).toThrow(/unknown option 'colNames'/);
    expect(() => kiln.utils.summary(up, [1, 0, 5], { verbose: false })).toThrow(/inputShape/);
    expect(() => kiln.utils.summary(up, [[1, 4, 5, 5]], { verbose: false, dtypes: ['int32', 'int32'] })).toThrow(/dtypes/);
  });
});
