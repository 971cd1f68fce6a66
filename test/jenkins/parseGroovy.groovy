// Parses each file named on the command line with Groovy's own compiler, up to the CONVERSION
// phase (syntax and AST, no class resolution: Jenkins' steps are not on this classpath), and
// prints the `stage('…')` names it finds under `stages`, in order. Exit 1 on a syntax error.
import org.codehaus.groovy.ast.CodeVisitorSupport
import org.codehaus.groovy.ast.expr.ArgumentListExpression
import org.codehaus.groovy.ast.expr.ConstantExpression
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.control.CompilationFailedException
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.Phases

def failed = false
args.each { path ->
  def unit = new CompilationUnit()
  def source = unit.addSource(new File(path))
  try {
    unit.compile(Phases.CONVERSION)
  } catch (CompilationFailedException e) {
    System.err.println("${path}: ${e.message}")
    failed = true
    return
  }
  def stages = []
  def visitor = new CodeVisitorSupport() {
    void visitMethodCallExpression(MethodCallExpression call) {
      if (call.methodAsString == 'stage' && call.arguments instanceof ArgumentListExpression) {
        def first = call.arguments.expressions[0]
        if (first instanceof ConstantExpression) stages << first.value
      }
      super.visitMethodCallExpression(call)
    }
  }
  source.AST.statementBlock.visit(visitor)
  println("${path}: ${stages.join(',')}")
}
System.exit(failed ? 1 : 0)
