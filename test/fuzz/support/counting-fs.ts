// The counting file system lives in bench/lib/peers (the bounds server child uses it).
export * from '../../../bench/lib/peers/counting-fs.js';
