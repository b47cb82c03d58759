import { afterAll, beforeAll } from 'vitest';
import { describeKernel } from './harness.js';
import { createContext, packetFlowScenarios, type Ctx } from './packet-flow.js';

describeKernel('nftables mode, compact layout, in a real kernel', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await createContext('nftables-compact');
  });
  afterAll(() => ctx?.world.destroy());
  packetFlowScenarios(() => ctx);
});
