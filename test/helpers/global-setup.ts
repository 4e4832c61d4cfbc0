/** Nothing global yet beyond a fresh temp root; services are per test file (see harness.ts). */
export default function setup(): void {}
