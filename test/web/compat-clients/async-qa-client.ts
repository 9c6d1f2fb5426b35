/**
 * The JavaScript client of the async question API chatflow replaces, copied from its document
 * ("异步工作流API使用指南", async-qa-api.md, section "客户端使用流程": "基本轮询模式" and
 * "带超时的轮询"), trimmed to the request and the two polling functions. Source: the design
 * document of that system, kept with chatflow's seeds; it states no licence, and this is a
 * short excerpt kept for interoperability testing (the lead should confirm before release).
 *
 * Changes, and only these: the code is wrapped in a factory that receives `fetch`, `console`
 * and `setTimeout` (the page used the browser's globals: relative URLs need a base in Node,
 * and a test should not wait 2 s per poll); TypeScript parameter types are added. Every
 * statement inside is as written.
 */
type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

export function asyncQaClient({ fetch, console, setTimeout }: { fetch: Fetch; console: { log(...a: unknown[]): void; error(...a: unknown[]): void }; setTimeout: (fn: () => void, ms: number) => unknown }) {
  // 1. 发起异步请求
  async function ask() {
    const response = await fetch('/api/v2/chat/qa/async', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        input: "孕妇最近出现头晕症状，需要什么建议？",
        maternal_id: 123,
        chat_id: "chat_123_pregnant_mother_uuid",
        user_type: "pregnant_mother",
        file_id: []
      })
    });

    const taskInfo = await response.json();
    const taskId = taskInfo.data.task_id;
    return taskId;
  }

  // 2. 轮询任务状态
  async function pollTaskStatus(taskId: string) {
    while (true) {
      const statusResponse = await fetch(`/api/v2/chat/qa/task/${taskId}/status`);
      const statusData = await statusResponse.json();

      const status = statusData.data.status;
      console.log(`任务状态: ${status}, 进度: ${statusData.data.progress}%`);

      if (status === 'completed') {
        console.log('任务完成!', statusData.data.result);
        return statusData.data.result;
      } else if (status === 'failed') {
        console.error('任务失败:', statusData.data.error);
        throw new Error(statusData.data.error);
      }

      // 等待2秒后继续查询
      await new Promise(resolve => setTimeout(resolve as () => void, 2000));
    }
  }

  async function pollTaskStatusWithTimeout(taskId: string, timeoutMs = 300000) {
    const startTime = Date.now();

    while (Date.now() - startTime < timeoutMs) {
      const statusResponse = await fetch(`/api/v2/chat/qa/task/${taskId}/status`);
      const statusData = await statusResponse.json();

      const status = statusData.data.status;

      if (status === 'completed') {
        return statusData.data.result;
      } else if (status === 'failed') {
        throw new Error(statusData.data.error);
      }

      await new Promise(resolve => setTimeout(resolve as () => void, 2000));
    }

    throw new Error('任务超时');
  }

  return { ask, pollTaskStatus, pollTaskStatusWithTimeout };
}
