import { MessageType, type Entry, type Message } from '../src/index.js';

/** One message as a trace line: `n1→n2 Append term 3 prev 5@2 [6@3..8@3] commit 5`. */
export function describeMessage(message: Message): string {
  const head = `n${message.from}→n${message.to} ${message.type} term ${message.term}`;
  switch (message.type) {
    case MessageType.Append:
      return `${head} prev ${message.index}@${message.logTerm} ${describeEntries(message.entries)} commit ${message.commit}`;
    case MessageType.AppendResponse:
      return message.reject
        ? `${head} REJECT ${message.index} hint ${message.rejectHintIndex}@${message.rejectHintTerm}`
        : `${head} ok ${message.index}`;
    case MessageType.Vote:
    case MessageType.PreVote:
      return `${head} last ${message.index}@${message.logTerm}${message.force ? ' (transfer)' : ''}`;
    case MessageType.VoteResponse:
    case MessageType.PreVoteResponse:
      return `${head} ${message.reject ? 'REJECT' : 'granted'}`;
    case MessageType.Heartbeat:
      return `${head} commit ${message.commit}${message.context ? ` read ${message.context}` : ''}`;
    case MessageType.HeartbeatResponse:
      return `${head}${message.context ? ` read ${message.context}` : ''}`;
    case MessageType.InstallSnapshot:
      return `${head} snapshot ${message.snapshot?.meta.index ?? '?'}@${message.snapshot?.meta.term ?? '?'}`;
    case MessageType.ReadIndex:
    case MessageType.ReadIndexResponse:
      return `${head} read ${message.context ?? '?'} index ${message.index}`;
    case MessageType.TimeoutNow:
      return head;
  }
}

function describeEntries(entries: readonly Entry[]): string {
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (first === undefined || last === undefined) return '[]';
  if (first === last) return `[${first.index}@${first.term}]`;
  return `[${first.index}@${first.term}..${last.index}@${last.term}]`;
}
