// The kvshare console: a support chat against the service's own OpenAI-compatible API. No build step and no
// dependencies; each reply shows the prompt tokens restored from the prompt cache (cached_tokens, from the
// stream's usage chunk), the time to first token and the decode rate as this browser measured them. Modes:
// plain chat, tools (a tools array and tool_choice) and JSON (a response_format json_schema); Stop aborts the
// stream (the service stops generating when the connection closes); the raw request and SSE events are shown.
'use strict';

const $ = (id) => document.getElementById(id);
let turns = [];
let inFlight = null; // the AbortController of the reply being streamed

function headers() {
  const h = { 'Content-Type': 'application/json' };
  const token = $('token').value.trim();
  if (token) h.Authorization = 'Bearer ' + token;
  return h;
}

function conversation() {
  const system = $('system').value.trim();
  return system ? [{ role: 'system', content: system }, ...turns] : turns;
}

function bubble(role, text) {
  const li = document.createElement('li');
  li.className = role;
  const body = document.createElement('div');
  body.className = 'text';
  body.textContent = text;
  li.appendChild(body);
  $('messages').appendChild(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

function stats(li, text) {
  const line = document.createElement('div');
  line.className = 'stats';
  line.textContent = text;
  li.appendChild(line);
}

// Reads an SSE body: calls onEvent with each data payload's JSON (and its text) until [DONE].
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ')) continue; // heartbeats are SSE comments
      const data = event.slice('data: '.length);
      if (data === '[DONE]') return;
      onEvent(JSON.parse(data), data);
    }
  }
}

// The request body for the conversation so far, in the chosen mode; throws on a tools or schema box that is not JSON.
function requestBody() {
  const body = { messages: conversation(), stream: true, stream_options: { include_usage: true },
    max_tokens: Number($('maxTokens').value) || 64 };
  const temperature = $('temperature').value.trim();
  if (temperature !== '') body.temperature = Number(temperature);
  if ($('mode').value === 'tools') {
    body.tools = parseBox('tools');
    body.tool_choice = $('toolChoice').value;
  } else if ($('mode').value === 'json') {
    body.response_format = { type: 'json_schema', json_schema: { name: 'reply', strict: true, schema: parseBox('schema') } };
  }
  return body;
}

function parseBox(id) {
  try {
    return JSON.parse($(id).value);
  } catch (e) {
    throw new Error(`${id} is not JSON: ${e.message}`);
  }
}

// Adds streamed tool-call deltas to calls (by index), as the OpenAI SDKs assemble them.
function addToolCalls(calls, deltas) {
  for (const delta of deltas) {
    const call = calls[delta.index] || (calls[delta.index] = { id: delta.id, type: 'function', function: { name: '', arguments: '' } });
    if (delta.function && delta.function.name) call.function.name += delta.function.name;
    if (delta.function && delta.function.arguments) call.function.arguments += delta.function.arguments;
  }
}

function showToolCalls(li, calls) {
  for (const call of calls) {
    const block = document.createElement('div');
    block.className = 'toolcall';
    block.textContent = `${call.function.name}(${call.function.arguments})`;
    li.insertBefore(block, li.querySelector('.stats'));
  }
}

async function send(text) {
  turns.push({ role: 'user', content: text });
  bubble('user', text);
  const reply = bubble('assistant', '');
  reply.dataset.state = 'streaming';
  reply.dataset.chunks = '0';
  const body = reply.querySelector('.text');
  const started = performance.now();
  const raw = [];
  const calls = [];
  let first = null;
  let usage = null;
  let finishReason = null;
  inFlight = new AbortController();
  try {
    const request = requestBody();
    $('rawRequest').textContent = 'POST /v1/chat/completions\n' + JSON.stringify(request, null, 2);
    $('rawResponse').textContent = '';
    const response = await fetch('/v1/chat/completions', {
      method: 'POST', headers: headers(), body: JSON.stringify(request), signal: inFlight.signal,
    });
    if (!response.ok) {
      const error = await response.text();
      $('rawResponse').textContent = `HTTP ${response.status}\n${error}`;
      throw new Error(JSON.parse(error).error.message);
    }
    await readEvents(response, (chunk, data) => {
      raw.push('data: ' + data);
      $('rawResponse').textContent = raw.join('\n');
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices && chunk.choices[0];
      if (choice && choice.finish_reason) finishReason = choice.finish_reason;
      const delta = choice && choice.delta;
      if (delta && delta.tool_calls) addToolCalls(calls, delta.tool_calls);
      if (delta && delta.content) {
        if (first === null) first = performance.now();
        body.textContent += delta.content;
        reply.dataset.chunks = String(Number(reply.dataset.chunks) + 1);
        reply.scrollIntoView({ block: 'end' });
      }
    });
    const ended = performance.now();
    turns.push(calls.length ? { role: 'assistant', content: body.textContent || null, tool_calls: calls }
      : { role: 'assistant', content: body.textContent });
    const cached = usage ? usage.prompt_tokens_details.cached_tokens : 0;
    const ttft = first === null ? ended - started : first - started;
    const decoded = usage ? usage.completion_tokens - 1 : 0;
    const rate = first !== null && decoded > 0 && ended > first ? decoded / ((ended - first) / 1000) : null;
    stats(reply, `cached_tokens ${cached} of ${usage ? usage.prompt_tokens : '?'} · TTFT ${ttft.toFixed(0)} ms · `
        + (rate === null ? '– tokens/s' : `${rate.toFixed(1)} tokens/s`) + ` · ${finishReason}`);
    showToolCalls(reply, calls);
    reply.dataset.cachedTokens = String(cached);
    reply.dataset.finishReason = finishReason;
    reply.dataset.state = 'done';
  } catch (e) {
    if (e.name === 'AbortError') { // Stop: keep what arrived, as the conversation's reply
      turns.push({ role: 'assistant', content: body.textContent });
      stats(reply, 'stopped');
      reply.dataset.state = 'stopped';
    } else {
      turns.pop();
      reply.classList.add('error');
      stats(reply, e.message);
      reply.dataset.state = 'failed';
    }
  } finally {
    inFlight = null;
  }
  refreshCache();
}

function row(table, label, value) {
  const tr = table.insertRow();
  tr.insertCell().textContent = label;
  tr.insertCell().textContent = value;
}

async function refreshCache() {
  const target = $('cacheState');
  try {
    const response = await fetch('/console/prompt-cache', {
      method: 'POST', headers: headers(), body: JSON.stringify({ system: $('system').value }),
    });
    const state = await response.json();
    if (!response.ok) throw new Error(state.error.message);
    const table = document.createElement('table');
    if (!state.enabled) {
      row(table, 'prompt cache', 'off');
    } else {
      const reads = state.local.hits + state.local.misses;
      row(table, 'local tier', `${state.local.entries} blocks, ${(state.local.bytes / 1024).toFixed(0)} KiB`);
      row(table, 'local hit ratio', reads ? (100 * state.local.hits / reads).toFixed(0) + ' %' : '–');
      row(table, 'Redis breaker', state.redis);
      const r = state.residency;
      if (r) {
        row(table, 'system prompt', `${r.tokens} tokens, ${r.cacheableTokens} cacheable (${r.blocks} × ${r.blockSize})`);
        row(table, 'in local tier', `${r.localBlocks} of ${r.blocks} blocks`);
        row(table, 'in Redis', r.redisBlocks === null ? r.redis : `${r.redisBlocks} of ${r.blocks} blocks`);
      }
    }
    target.replaceChildren(table);
  } catch (e) {
    target.textContent = e.message;
  }
}

async function showModel() {
  const models = await (await fetch('/v1/models')).json();
  $('model').textContent = models.data.map((m) => `${m.id} · context ${m.max_model_len}`).join(', ');
}

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('message').value.trim();
  if (!text || inFlight) return;
  $('message').value = '';
  $('send').disabled = true;
  $('stop').disabled = false;
  try {
    await send(text);
  } finally {
    $('send').disabled = false;
    $('stop').disabled = true;
    $('message').focus();
  }
});
$('stop').addEventListener('click', () => {
  if (inFlight) inFlight.abort();
});
function showModeFields() {
  $('toolsFields').hidden = $('mode').value !== 'tools';
  $('jsonFields').hidden = $('mode').value !== 'json';
}
$('mode').addEventListener('change', showModeFields);
$('newChat').addEventListener('click', () => {
  turns = [];
  $('messages').replaceChildren();
});
$('refreshCache').addEventListener('click', refreshCache);
$('system').addEventListener('change', refreshCache);
$('token').addEventListener('change', refreshCache);
// On a phone the settings start folded, so the conversation and its input fill the screen.
if (window.matchMedia('(max-width: 700px)').matches) $('settings').open = false;
showModeFields();
showModel();
refreshCache();
