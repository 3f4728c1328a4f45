import { HEAP_GROWING_PERCENT, heapGrowingPercentFor } from './heap-growth';

describe('the bound on heap growth', () => {
  const scaled = { MQTT_URL: 'mqtt://127.0.0.1:1883', DATABASE_URL: 'postgresql://jifen@127.0.0.1/jifen' };

  it('is set when the gateway holds its broker or its database itself', () => {
    expect(heapGrowingPercentFor({ MQTT_URL: undefined, DATABASE_URL: undefined }, [])).toBe(HEAP_GROWING_PERCENT);
    expect(heapGrowingPercentFor({ ...scaled, DATABASE_URL: undefined }, [])).toBe(HEAP_GROWING_PERCENT);
    expect(heapGrowingPercentFor({ ...scaled, MQTT_URL: undefined }, [])).toBe(HEAP_GROWING_PERCENT);
  });

  it("leaves V8's default to a scaled gateway, and a value given to node wins in every mode", () => {
    expect(heapGrowingPercentFor(scaled, [])).toBeNull();
    expect(heapGrowingPercentFor({ MQTT_URL: undefined, DATABASE_URL: undefined }, ['--heap-growing-percent=50'])).toBeNull();
    expect(heapGrowingPercentFor({ MQTT_URL: undefined, DATABASE_URL: undefined }, ['--heap_growing_percent=50'])).toBeNull();
  });
});
