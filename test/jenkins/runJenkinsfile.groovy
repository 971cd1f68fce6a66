// Runs a declarative Jenkinsfile's Groovy for real, without Jenkins: each pipeline step the
// Jenkinsfiles use is a small stand-in, and every `sh` runs in the real /bin/sh, so the shell
// expansions (`${BATON_ENV:+--env "$BATON_ENV"}`) are the ones an agent would do. `baton` is
// whatever the scenario's PATH finds (test/jenkins puts a recorder there).
//
//   groovy runJenkinsfile.groovy <Jenkinsfile> <scenario.json>
//
// scenario: { params: {RUN_ID, PIPELINE, COMMIT}, env: {PATH, ...}, decision?: {DECISION,
// APPROVER, REASON}, inputFirst?: bool }. A `sh` whose command exits 143 (as one killed by
// SIGTERM) is Jenkins' abort: the build ends ABORTED and its `aborted` post block runs. With inputFirst, a parallel step runs its 'Decide in
// Jenkins' branch first (someone decides in Jenkins); otherwise branches run in the order
// written (the decision arrives from Slack, and the Decision branch closes the input).
// Prints one JSON object: { result: SUCCESS|FAILURE|ABORTED, error?, events: [{stage} | {sh, stage,
// code} | {input, message} | {echo}] }. Stage paths are nested with '/'.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper

def file = new File(args[0])
def scenario = new JsonSlurper().parse(new File(args[1]))
def events = []
def stagePath = []
def envStack = [[:]]
def params = scenario.params
def currentEnv = { ->
  def merged = [:]
  envStack.each { merged.putAll(it) }
  merged
}

def runSh = { Map options ->
  def builder = new ProcessBuilder('/bin/sh', '-c', options.script)
  def environment = builder.environment()
  scenario.env.each { k, v -> environment.put(k, String.valueOf(v)) }
  params.each { k, v -> environment.put(k, String.valueOf(v)) }
  currentEnv().each { k, v -> environment.put(k, String.valueOf(v)) }
  environment.put('JENKINS_STAGE', stagePath.join('/'))
  def process = builder.start()
  def out = new StringBuffer()
  def err = new StringBuffer()
  // Reads both streams to their end, then waits for the exit.
  process.waitForProcessOutput(out, err)
  def code = process.exitValue()
  events << [sh: options.script, stage: stagePath.join('/'), code: code]
  if (code == 143) throw new InterruptedException('aborted')
  if (options.returnStatus) return code
  if (code != 0) throw new RuntimeException("script returned exit code ${code}")
  return options.returnStdout ? out.toString() : null
}

def stagesBody = null
def alwaysBody = null
def abortedBody = null
def binding = new Binding()
binding.params = params
binding.env = [BUILD_NUMBER: '7', BATON_APPROVERS: 'baton-approvers']
binding.currentBuild = new Expando()
binding.pipeline = { Closure body ->
  body()
  def result = [result: 'SUCCESS']
  try {
    stagesBody()
  } catch (InterruptedException e) {
    result = [result: 'ABORTED']
  } catch (Throwable e) {
    result = [result: 'FAILURE', error: e.message]
  }
  // Jenkins runs the post conditions in this order, whatever order they are written in.
  if (alwaysBody) alwaysBody()
  if (abortedBody && result.result == 'ABORTED') abortedBody()
  result.events = events
  println(JsonOutput.toJson(result))
}
// Declarative sections whose content these runs do not need.
['agent', 'parameters', 'options'].each { name -> binding.setVariable(name, { Closure c -> }) }
binding.environment = { Closure c ->
  def values = [:]
  c.resolveStrategy = Closure.DELEGATE_FIRST
  c.delegate = values
  c()
  envStack[0].putAll(values)
}
binding.stages = { Closure c -> stagesBody = c }
binding.post = { Closure c -> c() }
binding.always = { Closure c -> alwaysBody = c }
binding.aborted = { Closure c -> abortedBody = c }
binding.stage = { String name, Closure body ->
  stagePath.add(name)
  events << [stage: stagePath.join('/')]
  try {
    body()
  } finally {
    stagePath.remove(stagePath.size() - 1)
  }
}
binding.steps = { Closure c -> c() }
binding.script = { Closure c -> c() }
binding.sh = { arg -> arg instanceof Map ? runSh(arg) : runSh([script: arg]) }
binding.readJSON = { Map m -> new JsonSlurper().parseText(m.text) }
binding.echo = { String s -> events << [echo: s] }
binding.error = { String s -> throw new RuntimeException(s) }
binding.string = { Map m -> m }
binding.choice = { Map m -> m }
binding.withEnv = { List entries, Closure c ->
  envStack.add(entries.collectEntries { String entry -> def parts = entry.split('=', 2); [(parts[0]): parts.length > 1 ? parts[1] : ''] })
  try {
    c()
  } finally {
    envStack.remove(envStack.size() - 1)
  }
}
binding.withCredentials = { List bindings, Closure c ->
  envStack.add(bindings.collectEntries { [(it.variable): 'redacted'] })
  try {
    c()
  } finally {
    envStack.remove(envStack.size() - 1)
  }
}
binding.input = { Map m ->
  events << [input: m.id, message: m.message, submitter: m.submitter]
  scenario.decision ?: [DECISION: 'approve', APPROVER: 'alice', REASON: '']
}
// Branches one after the other; a branch that fails ends the step (failFast aborts the rest).
binding.parallel = { Map branches ->
  def names = branches.keySet().findAll { it != 'failFast' }.toList()
  if (scenario.inputFirst) names = names.sort { it == 'Decide in Jenkins' ? 0 : 1 }
  names.each { name -> branches[name]() }
}

new GroovyShell(binding).evaluate(file.text, file.name)
