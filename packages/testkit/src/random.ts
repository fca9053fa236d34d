// The one seeded random lives in @k8ts/base; the test kit's users (bench, the cross-process suites) keep importing it from here.
export { seededRandom } from '@k8ts/base';
