# The version regd and regctl print (--version): the project's version and the git revision the
# tree was configured from. Also a script: `cmake -DSOURCE_DIR=DIR -P cmake/version.cmake` prints
# the revision of DIR (tests/core/CMakeLists.txt checks the fallback with it).

# regd_git_revision(<var> <dir>): the abbreviated commit of the git checkout at <dir>, with
# "-dirty" when it has uncommitted changes; "unknown" when <dir> is not the top of a checkout (a
# source tarball, even one unpacked inside another repository) or git is missing.
function(regd_git_revision out dir)
  set(revision unknown)
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${dir} rev-parse --show-toplevel
      OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
    file(REAL_PATH "${dir}" real_dir)
    if(NOT failed AND top)
      file(REAL_PATH "${top}" real_top)
    endif()
    if(NOT failed AND top AND real_top STREQUAL real_dir)
      execute_process(COMMAND ${GIT_EXECUTABLE} -C ${dir} describe --always --dirty --abbrev=7 --exclude=*
        OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
      if(NOT failed AND described)
        set(revision ${described})
      endif()
    endif()
  endif()
  set(${out} ${revision} PARENT_SCOPE)
endfunction()

# regd_git_watch(<dir>): configure again when the checkout at <dir> moves to another commit, so
# the revision follows commits without a manual cmake run.
function(regd_git_watch dir)
  find_package(Git QUIET)
  if(NOT GIT_FOUND)
    return()
  endif()
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${dir} rev-parse --absolute-git-dir
    OUTPUT_VARIABLE git_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
  if(NOT failed AND EXISTS "${git_dir}/logs/HEAD")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${git_dir}/HEAD" "${git_dir}/logs/HEAD")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND DEFINED SOURCE_DIR)
  regd_git_revision(revision "${SOURCE_DIR}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${revision}")
endif()
