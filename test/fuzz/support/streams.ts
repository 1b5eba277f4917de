// Stream helpers live in bench/lib/peers (the bench's hostile peers use them too).
export * from '../../../bench/lib/peers/streams.js';
