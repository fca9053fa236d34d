import { describe, expect, test } from 'vitest';
import { Channel, channelMessage, chooseProtocol, errorChannelMessage, exitCodeStatus, internalErrorStatus, parseClientMessage, successStatus } from './channel.js';

describe('the WebSocket channel protocol', () => {
  test('the client\'s first subprotocol that is served wins', () => {
    expect(chooseProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io'])).toBe('v5.channel.k8s.io');
    expect(chooseProtocol(['base64.channel.k8s.io', 'v4.channel.k8s.io', 'v5.channel.k8s.io'])).toBe('v4.channel.k8s.io');
    expect(chooseProtocol(['SPDY/3.1+portforward.k8s.io'])).toBeUndefined();
  });

  test('messages are prefixed with their channel', () => {
    expect([...channelMessage(Channel.STDOUT, 'hi')]).toEqual([1, 104, 105]);
    expect([...channelMessage(Channel.STDERR)]).toEqual([2]);
  });

  test('client messages: stdin, resize from v3, close from v5', () => {
    expect(parseClientMessage('v5.channel.k8s.io', Buffer.from([0, 65]))).toEqual({ kind: 'stdin', data: Buffer.from('A') });
    const resize = Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":80,"Height":24}')]);
    expect(parseClientMessage('v4.channel.k8s.io', resize)).toEqual({ kind: 'resize', width: 80, height: 24 });
    expect(parseClientMessage('v2.channel.k8s.io', resize)).toEqual({ kind: 'ignored' });
    expect(parseClientMessage('v4.channel.k8s.io', Buffer.from([4, 123]))).toEqual({ kind: 'ignored' });
    expect(parseClientMessage('v5.channel.k8s.io', Buffer.from([255, 0]))).toEqual({ kind: 'close', channel: 0 });
    expect(parseClientMessage('v4.channel.k8s.io', Buffer.from([255, 0]))).toEqual({ kind: 'ignored' });
    expect(parseClientMessage('v5.channel.k8s.io', Buffer.alloc(0))).toEqual({ kind: 'ignored' });
  });

  test('the error channel: a Status from v4 on (NonZeroExitCode with the ExitCode cause), the text before', () => {
    const status = exitCodeStatus(['sh', '-c', 'exit 3'], 3);
    const v5 = errorChannelMessage('v5.channel.k8s.io', status);
    expect(v5[0]).toBe(Channel.ERROR);
    expect(JSON.parse(v5.subarray(1).toString())).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(JSON.parse(errorChannelMessage('v4.channel.k8s.io', successStatus()).subarray(1).toString())).toEqual({ metadata: {}, status: 'Success' });
    expect(errorChannelMessage('v3.channel.k8s.io', status).subarray(1).toString()).toBe(status.message);
    expect(errorChannelMessage('channel.k8s.io', successStatus()).length).toBe(1);
    expect(internalErrorStatus('boom')).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500, message: 'Internal error occurred: boom' });
  });
});
